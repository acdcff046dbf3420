// Reference values come from scikit-learn 1.9.1 (Python venv in /tmp, `pip install scikit-learn`),
// computed on exactly the inputs below with sklearn.metrics: accuracy_score, precision_score,
// recall_score, f1_score, fbeta_score (average='binary' | 'macro' | 'weighted'), roc_auc_score
// (multi_class='ovr', average='macro' for multiclass), log_loss, confusion_matrix(labels=...),
// mean_squared_error, root_mean_squared_error, mean_absolute_error and r2_score.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  accuracy,
  binaryLogLoss,
  binaryScores,
  confusionMatrix,
  evaluateHoldout,
  macroScores,
  meanAbsoluteError,
  meanSquaredError,
  multiclassLogLoss,
  oneVsRestAuc,
  r2Score,
  rocAuc,
  rootMeanSquaredError,
  weightedScores,
  type MonitorMetric,
} from '../domain/metrics';

const close = (actual: number | null, expected: number, what: string) => {
  assert.ok(actual !== null, `${what} is null`);
  assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual} != sklearn ${expected}`);
};

describe('binary classification metrics match scikit-learn', () => {
  // Ties at 0.5 across both classes, and a score exactly at the threshold (predicted 0, as sklearn's predict).
  const actual = [0, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0];
  const scores = [0.1, 0.4, 0.35, 0.8, 0.5, 0.5, 0.2, 0.9, 0.65, 0.7, 0.3, 0.05];
  const predicted = [0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0, 0];

  it('accuracy, precision, recall and F-beta', () => {
    close(accuracy(actual, predicted), 0.6666666666666666, 'accuracy');
    const f1 = binaryScores(actual, predicted, 1);
    close(f1.precision, 0.75, 'precision');
    close(f1.recall, 0.5, 'recall');
    close(f1.fBeta, 0.6, 'f1');
    close(binaryScores(actual, predicted, 0.5).fBeta, 0.6818181818181818, 'f0.5');
    close(binaryScores(actual, predicted, 2).fBeta, 0.5357142857142857, 'f2');
  });

  it('ROC AUC handles tied scores like the trapezoidal curve', () => {
    close(rocAuc(actual, scores), 0.7638888888888888, 'auc');
    close(rocAuc([0, 1, 0, 1], [0.3, 0.3, 0.3, 0.3]), 0.5, 'auc with all scores tied');
    assert.equal(rocAuc([1, 1, 1], [0.2, 0.5, 0.9]), null, 'AUC is undefined with one class');
  });

  it('log loss, clipping certain mistakes at float64 epsilon', () => {
    close(binaryLogLoss(actual, scores), 0.5411643385383756, 'log loss');
    close(binaryLogLoss([1, 0], [0, 0]), 18.021826694558577, 'log loss of a certain mistake');
    close(binaryLogLoss([1, 0], [1, 1]), 18.021826694558577, 'log loss of a certain mistake');
  });

  it('confusion matrix is [actual][predicted]', () => {
    assert.deepEqual(confusionMatrix(actual, predicted, 2), [
      [5, 1],
      [3, 3],
    ]);
  });

  it('an empty positive prediction set scores 0, not NaN (zero_division)', () => {
    const s = binaryScores([0, 1, 1], [0, 0, 0]);
    assert.equal(s.precision, 0);
    assert.equal(s.fBeta, 0);
  });
});

describe('multiclass classification metrics match scikit-learn', () => {
  const actual = [0, 0, 0, 0, 1, 1, 2, 2, 2, 1, 0, 2];
  const probabilities = [
    [0.7, 0.2, 0.1],
    [0.2, 0.5, 0.3],
    [0.6, 0.3, 0.1],
    [0.3, 0.3, 0.4],
    [0.25, 0.5, 0.25],
    [0.5, 0.3, 0.2],
    [0.2, 0.2, 0.6],
    [0.1, 0.8, 0.1],
    [0.3, 0.3, 0.4],
    [0.15, 0.15, 0.7],
    [0.9, 0.05, 0.05],
    [0.2, 0.2, 0.6],
  ];
  const predicted = [0, 1, 0, 2, 1, 0, 2, 1, 2, 2, 0, 2];

  it('accuracy, macro and weighted scores', () => {
    close(accuracy(actual, predicted), 0.5833333333333334, 'accuracy');
    const macro = macroScores(actual, predicted);
    close(macro.precision, 0.561111111111111, 'macro precision');
    close(macro.recall, 0.5611111111111111, 'macro recall');
    close(macro.fBeta, 0.5555555555555555, 'macro f1');
    close(macroScores(actual, predicted, 0.5).fBeta, 0.5575396825396826, 'macro f0.5');
    const weighted = weightedScores(actual, predicted);
    close(weighted.precision, 0.5958333333333333, 'weighted precision');
    close(weighted.recall, 0.5833333333333334, 'weighted recall');
    close(weighted.fBeta, 0.5833333333333334, 'weighted f1');
    close(weightedScores(actual, predicted, 0.5).fBeta, 0.5892857142857143, 'weighted f0.5');
    close(weightedScores(actual, predicted, 2).fBeta, 0.5818452380952381, 'weighted f2');
  });

  it('macro averages over the labels seen in actual or predicted', () => {
    close(macroScores([0, 0, 1, 1], [0, 0, 0, 2]).fBeta, 0.26666666666666666, 'macro f1 over {0,1,2}');
  });

  it('one-vs-rest AUC, log loss and confusion matrix', () => {
    close(oneVsRestAuc(actual, probabilities), 0.6881668871252206, 'ovr macro auc');
    close(multiclassLogLoss(actual, probabilities), 0.9850865701912109, 'log loss');
    // sklearn 1.9 scores rows that do not sum to 1 as given.
    close(multiclassLogLoss([0, 1], [[0.5, 0.3, 0.4], [0.2, 0.2, 0.2]]), 1.1512925464970227, 'log loss of unnormalised rows');
    assert.deepEqual(confusionMatrix(actual, predicted, 3), [
      [3, 1, 1],
      [1, 1, 1],
      [0, 1, 3],
    ]);
  });
});

describe('regression metrics match scikit-learn', () => {
  const actual = [3, -0.5, 2, 7, 4.2];
  const predicted = [2.5, 0.0, 2, 8, 3.9];
  it('mse, rmse, mae, r2', () => {
    close(meanSquaredError(actual, predicted), 0.318, 'mse');
    close(rootMeanSquaredError(actual, predicted), 0.5639148871948674, 'rmse');
    close(meanAbsoluteError(actual, predicted), 0.4600000000000001, 'mae');
    close(r2Score(actual, predicted), 0.9480256276150627, 'r2');
  });
  it('r2 with constant actual values is 1 for a perfect fit and 0 otherwise', () => {
    assert.equal(r2Score([1, 1, 1], [1, 1, 1]), 1);
    assert.equal(r2Score([1, 1, 1], [1, 2, 1]), 0);
  });
});

describe('holdout reports', () => {
  it('binary: gate summary plus Model Monitor statistics without a standard deviation under 200 rows', () => {
    const report = evaluateHoldout({
      predictorType: 'binary_classifier',
      actual: [0, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0],
      scores: [0.1, 0.4, 0.35, 0.8, 0.5, 0.5, 0.2, 0.9, 0.65, 0.7, 0.3, 0.05],
    });
    assert.equal(report.rows, 12);
    assert.deepEqual(Object.keys(report.summary).sort(), ['accuracy', 'auc', 'f1', 'log_loss', 'precision', 'recall']);
    assert.ok('binary_classification_metrics' in report.modelQuality);
    const m = report.modelQuality.binary_classification_metrics;
    assert.deepEqual(m.confusion_matrix, { '0': { '0': 5, '1': 1 }, '1': { '0': 3, '1': 3 } });
    assert.deepEqual(m.accuracy, { value: 0.6666666666666666, standard_deviation: 'NaN' });
    assert.equal((m.auc as MonitorMetric).value, 0.7638888888888888);
    // Always predicting the positive class: 6 of 12 rows are positive.
    assert.equal((m.precision_best_constant_classifier as MonitorMetric).value, 0.5);
    assert.equal((m.recall_best_constant_classifier as MonitorMetric).value, 1);
    assert.equal((m.false_positive_rate as MonitorMetric).value, 1 / 6);
  });

  it('standard deviations from five 80% subsamples once there are 200 rows, reproducible by seed', () => {
    const actual = Array.from({ length: 400 }, (_, i) => i % 2);
    const predicted = actual.map((a, i) => (i % 7 === 0 ? 5 - a : a + (i % 3) * 0.1));
    const first = evaluateHoldout({ predictorType: 'regressor', actual, predicted }, { seed: 7 });
    const again = evaluateHoldout({ predictorType: 'regressor', actual, predicted }, { seed: 7 });
    assert.deepEqual(first, again);
    assert.ok('regression_metrics' in first.modelQuality);
    const mae = first.modelQuality.regression_metrics.mae;
    assert.equal(typeof mae.standard_deviation, 'number');
    assert.ok((mae.standard_deviation as number) > 0 && (mae.standard_deviation as number) < 0.1);
    close(mae.value as number, meanAbsoluteError(actual, predicted), 'mae value');
  });

  it('multiclass: weighted scores for Model Monitor, macro F1 for the gate', () => {
    const report = evaluateHoldout({
      predictorType: 'multiclass_classifier',
      actual: [0, 1, 2, 2],
      probabilities: [
        [0.8, 0.1, 0.1],
        [0.1, 0.8, 0.1],
        [0.1, 0.1, 0.8],
        [0.1, 0.6, 0.3],
      ],
    });
    assert.ok('multiclass_classification_metrics' in report.modelQuality);
    const m = report.modelQuality.multiclass_classification_metrics;
    assert.deepEqual(m.confusion_matrix, { '0': { '0': 1, '1': 0, '2': 0 }, '1': { '0': 0, '1': 1, '2': 0 }, '2': { '0': 0, '1': 1, '2': 1 } });
    assert.equal((m.accuracy as MonitorMetric).value, 0.75);
    assert.ok(!('macro_f1' in m));
    assert.ok('f1' in report.summary);
    // Per-class F1: 1, 2/3, 2/3.
    close(report.summary.f1, (1 + 2 / 3 + 2 / 3) / 3, 'macro f1');
    close((m.weighted_f1 as MonitorMetric).value as number, 0.25 * 1 + 0.25 * (2 / 3) + 0.5 * (2 / 3), 'weighted f1');
    // Best constant classifier predicts class 2 (half the rows).
    assert.equal((m.weighted_precision_best_constant_classifier as MonitorMetric).value, 0.25);
  });
});
