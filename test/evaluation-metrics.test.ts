// What the evaluation adds to the holdout metrics: summaries on slices of the rows, the gate's metric on
// a bootstrap draw, and McNemar's discordant pairs. Reference values: test/fixtures/gate-reference/
// reference.json, written by reference.py beside it with scikit-learn 1.9.1 (accuracy_score, f1_score,
// roc_auc_score, log_loss, mean_absolute_error and root_mean_squared_error, with sample_weight).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { evaluateHoldout, metricOnDraws, summaryOfRows, type GateMetric, type HoldoutPredictions } from '../domain/metrics';
import { discordantPairs } from '../domain/significance';

interface Reference {
  packages: Record<string, string>;
  weighted_binary: { actual: number[]; scores: number[]; weights: number[] } & Record<'accuracy' | 'f1' | 'auc' | 'log_loss', number>;
  weighted_multiclass: { actual: number[]; probabilities: number[][]; weights: number[] } & Record<'accuracy' | 'f1' | 'auc' | 'log_loss', number>;
  weighted_regression: { actual: number[]; predicted: number[]; weights: number[]; mae: number; rmse: number };
  slices: { value: number; rows: number[]; accuracy: number; f1: number; log_loss: number; auc: number | null }[];
}
const reference = JSON.parse(readFileSync(path.join(__dirname, 'fixtures', 'gate-reference', 'reference.json'), 'utf8')) as Reference;

const close = (actual: number | null, expected: number, what: string) => {
  assert.ok(actual !== null, `${what} is null`);
  assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual} != sklearn ${expected}`);
};

const binary: HoldoutPredictions = { predictorType: 'binary_classifier', actual: reference.weighted_binary.actual, scores: reference.weighted_binary.scores };
const multiclass: HoldoutPredictions = { predictorType: 'multiclass_classifier', actual: reference.weighted_multiclass.actual, probabilities: reference.weighted_multiclass.probabilities };
const regression: HoldoutPredictions = { predictorType: 'regressor', actual: reference.weighted_regression.actual, predicted: reference.weighted_regression.predicted };
const ones = (n: number) => new Array<number>(n).fill(1);

describe('the gate metric on a bootstrap draw matches scikit-learn with sample_weight', () => {
  assert.equal(reference.packages['scikit-learn'], '1.9.1');
  const classifierMetrics = ['accuracy', 'f1', 'auc', 'log_loss'] as const;

  it('binary classifier', () => {
    for (const metric of classifierMetrics) close(metricOnDraws(binary, metric)(reference.weighted_binary.weights), reference.weighted_binary[metric], `weighted ${metric}`);
  });

  it('multiclass classifier (macro F1, one-vs-rest macro AUC)', () => {
    for (const metric of classifierMetrics) close(metricOnDraws(multiclass, metric)(reference.weighted_multiclass.weights), reference.weighted_multiclass[metric], `weighted ${metric}`);
  });

  it('regressor', () => {
    close(metricOnDraws(regression, 'mae')(reference.weighted_regression.weights), reference.weighted_regression.mae, 'weighted mae');
    close(metricOnDraws(regression, 'rmse')(reference.weighted_regression.weights), reference.weighted_regression.rmse, 'weighted rmse');
  });

  it("every row drawn once gives the summary's value", () => {
    for (const [p, metrics] of [
      [binary, [...classifierMetrics]],
      [multiclass, [...classifierMetrics]],
      [regression, ['rmse', 'mae']],
    ] as [HoldoutPredictions, GateMetric[]][]) {
      const summary = evaluateHoldout(p).summary as unknown as Record<string, number>;
      for (const metric of metrics) close(metricOnDraws(p, metric)(ones(p.actual.length)), summary[metric], `${p.predictorType} ${metric}`);
    }
  });

  it('a row drawn k times counts as k copies of it, and undrawn classes leave the macro average', () => {
    const w = [0, 2, 1, 0, 3, 1, 0, 1, 2, 0, 1, 1];
    const copies = (values: ArrayLike<number>) => w.flatMap((k, i) => new Array<number>(k).fill(values[i]));
    const copied: HoldoutPredictions = { predictorType: 'binary_classifier', actual: copies(binary.actual), scores: copies(binary.scores) };
    const summary = evaluateHoldout(copied).summary as unknown as Record<string, number>;
    for (const metric of classifierMetrics) close(metricOnDraws(binary, metric)(w), summary[metric], `${metric} on copies`);
    // Only class-0 rows drawn: AUC is undefined, and class 2 (never drawn, never predicted) is no label.
    assert.equal(metricOnDraws(binary, 'auc')([1, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 1]), null);
    const onlyRow0 = reference.weighted_multiclass.actual.map((_, i) => (i === 0 ? 1 : 0));
    assert.equal(metricOnDraws(multiclass, 'f1')(onlyRow0), 1);
  });

  it('refuses a metric that does not fit the predictor', () => {
    assert.throws(() => metricOnDraws(regression, 'accuracy'), /accuracy does not apply to a regressor/);
    assert.throws(() => metricOnDraws(binary, 'rmse'), /rmse does not apply to a classifier/);
  });
});

describe('slice summaries match scikit-learn on the slice rows', () => {
  for (const slice of reference.slices) {
    it(`category ${slice.value} (${slice.rows.length} rows)`, () => {
      const s = summaryOfRows(binary, slice.rows) as unknown as Record<string, number | null>;
      close(s.accuracy, slice.accuracy, 'accuracy');
      close(s.f1, slice.f1, 'f1');
      close(s.log_loss, slice.log_loss, 'log loss');
      if (slice.auc === null) assert.equal(s.auc, null, 'AUC on a one-class slice is undefined');
      else close(s.auc, slice.auc, 'auc');
    });
  }
  it('an empty slice has no summary', () => assert.equal(summaryOfRows(binary, []), null));
});

describe("McNemar's discordant pairs", () => {
  it('counts the rows exactly one model gets right', () => {
    const actual = [1, 0, 1, 1, 0, 2];
    assert.deepEqual(discordantPairs(actual, [1, 0, 0, 1, 1, 2], [0, 0, 1, 1, 1, 1]), { candidateOnlyCorrect: 2, championOnlyCorrect: 1 });
    assert.throws(() => discordantPairs([1], [1, 0], [1]), /1 labels, 2 candidate and 1 champion predictions/);
  });
});
