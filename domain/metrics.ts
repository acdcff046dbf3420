// Model-quality metrics for holdout evaluation and training logs. Pure: no I/O, no Node built-ins.
// Each function follows scikit-learn's definition of the metric of the same name (the unit tests
// hold reference values computed with it), and the report builders emit SageMaker Model Monitor's
// model-quality statistics shape, which Model Registry's ModelMetrics.ModelQuality.Statistics expects.

import { seededRandom } from './seeded-random';

/** Numeric arrays arrive as plain arrays or typed arrays from the CSV reader. */
export type Numbers = ArrayLike<number>;

/** The classifier's decision threshold on the positive-class probability, as sklearn's `predict`. */
export const BINARY_DECISION_THRESHOLD = 0.5;

/**
 * sklearn's `log_loss` clips probabilities to [eps, 1 - eps] with eps = float64 machine epsilon, so a
 * confidently wrong prediction costs about 36 instead of infinity.
 */
export const LOG_LOSS_EPSILON = Number.EPSILON;

function checkSameLength(a: { length: number }, b: { length: number }, what: string): void {
  if (a.length !== b.length) throw new RangeError(`${what}: ${a.length} actual values but ${b.length} predictions`);
  if (a.length === 0) throw new RangeError(`${what}: no rows to score`);
}

export function accuracy(actual: Numbers, predicted: Numbers): number {
  checkSameLength(actual, predicted, 'accuracy');
  let hits = 0;
  for (let i = 0; i < actual.length; i++) if (actual[i] === predicted[i]) hits++;
  return hits / actual.length;
}

/** Counts indexed [actual][predicted], over the classes 0..numClasses-1 (sklearn's row/column convention). */
export function confusionMatrix(actual: Numbers, predicted: Numbers, numClasses: number): number[][] {
  checkSameLength(actual, predicted, 'confusion matrix');
  const matrix = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const p = predicted[i];
    if (!isClass(a, numClasses) || !isClass(p, numClasses)) {
      throw new RangeError(`confusion matrix: row ${i} has class ${a} -> ${p}, outside 0..${numClasses - 1}`);
    }
    matrix[a][p]++;
  }
  return matrix;
}

function isClass(value: number, numClasses: number): boolean {
  return Number.isInteger(value) && value >= 0 && value < numClasses;
}

/** F-beta from precision and recall; 0 when both are 0 (sklearn's zero_division default). */
export function fBeta(precision: number, recall: number, beta: number): number {
  const b2 = beta * beta;
  const denominator = b2 * precision + recall;
  return denominator === 0 ? 0 : ((1 + b2) * precision * recall) / denominator;
}

export interface ClassScores {
  label: number;
  /** Rows whose actual class is `label`. */
  support: number;
  precision: number;
  recall: number;
}

/**
 * Per-class precision and recall over the labels that occur in `actual` or `predicted`, which is
 * the label set sklearn's averaged scores use by default. An undefined ratio counts as 0.
 */
export function perClassScores(actual: Numbers, predicted: Numbers): ClassScores[] {
  checkSameLength(actual, predicted, 'per-class scores');
  const labels = [...new Set([...Array.from(actual), ...Array.from(predicted)])].sort((a, b) => a - b);
  return labels.map((label) => {
    let truePositives = 0;
    let predictedPositives = 0;
    let support = 0;
    for (let i = 0; i < actual.length; i++) {
      const isActual = actual[i] === label;
      const isPredicted = predicted[i] === label;
      if (isActual) support++;
      if (isPredicted) predictedPositives++;
      if (isActual && isPredicted) truePositives++;
    }
    return {
      label,
      support,
      precision: predictedPositives === 0 ? 0 : truePositives / predictedPositives,
      recall: support === 0 ? 0 : truePositives / support,
    };
  });
}

/** Scores of the positive class (1) of a binary problem, as sklearn's `average='binary'`. */
export function binaryScores(actual: Numbers, predicted: Numbers, beta = 1): { precision: number; recall: number; fBeta: number } {
  checkSameLength(actual, predicted, 'binary scores');
  let truePositives = 0;
  let predictedPositives = 0;
  let actualPositives = 0;
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] === 1) actualPositives++;
    if (predicted[i] === 1) predictedPositives++;
    if (actual[i] === 1 && predicted[i] === 1) truePositives++;
  }
  const precision = predictedPositives === 0 ? 0 : truePositives / predictedPositives;
  const recall = actualPositives === 0 ? 0 : truePositives / actualPositives;
  return { precision, recall, fBeta: fBeta(precision, recall, beta) };
}

/** Unweighted mean over classes, as sklearn's `average='macro'`. */
export function macroScores(actual: Numbers, predicted: Numbers, beta = 1): { precision: number; recall: number; fBeta: number } {
  const classes = perClassScores(actual, predicted);
  const mean = (f: (c: ClassScores) => number) => classes.reduce((sum, c) => sum + f(c), 0) / classes.length;
  return {
    precision: mean((c) => c.precision),
    recall: mean((c) => c.recall),
    fBeta: mean((c) => fBeta(c.precision, c.recall, beta)),
  };
}

/** Support-weighted mean over classes, as sklearn's `average='weighted'` (and Model Monitor's weighted_*). */
export function weightedScores(actual: Numbers, predicted: Numbers, beta = 1): { precision: number; recall: number; fBeta: number } {
  const classes = perClassScores(actual, predicted);
  const total = classes.reduce((sum, c) => sum + c.support, 0);
  const weighted = (f: (c: ClassScores) => number) => classes.reduce((sum, c) => sum + c.support * f(c), 0) / total;
  return {
    precision: weighted((c) => c.precision),
    recall: weighted((c) => c.recall),
    fBeta: weighted((c) => fBeta(c.precision, c.recall, beta)),
  };
}

/**
 * ROC AUC as the Mann-Whitney rank statistic: the probability that a random positive outranks a
 * random negative, ties counting one half (average ranks). Equal to sklearn's trapezoidal
 * `roc_auc_score`. Undefined (null) when the rows hold only one class.
 */
export function rocAuc(actual: Numbers, scores: Numbers): number | null {
  checkSameLength(actual, scores, 'ROC AUC');
  const order = Array.from({ length: actual.length }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let positives = 0;
  let positiveRankSum = 0;
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && scores[order[end + 1]] === scores[order[start]]) end++;
    // Ranks are 1-based; every member of a tie group gets the group's mean rank.
    const averageRank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) {
      if (actual[order[k]] === 1) {
        positives++;
        positiveRankSum += averageRank;
      }
    }
    start = end + 1;
  }
  const negatives = actual.length - positives;
  if (positives === 0 || negatives === 0) return null;
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/**
 * One-vs-rest ROC AUC averaged over classes, as sklearn's `roc_auc_score(multi_class='ovr',
 * average='macro')`. Classes with no positive or no negative row have no AUC and are left out;
 * null when none is left.
 */
export function oneVsRestAuc(actual: Numbers, probabilities: readonly Numbers[]): number | null {
  checkSameLength(actual, probabilities, 'one-vs-rest AUC');
  const numClasses = probabilities[0].length;
  const aucs: number[] = [];
  for (let c = 0; c < numClasses; c++) {
    const isClassC = Array.from(actual, (a) => (a === c ? 1 : 0));
    const auc = rocAuc(isClassC, probabilities.map((p) => p[c]));
    if (auc !== null) aucs.push(auc);
  }
  return aucs.length === 0 ? null : aucs.reduce((a, b) => a + b, 0) / aucs.length;
}

function clipProbability(p: number): number {
  return Math.min(Math.max(p, LOG_LOSS_EPSILON), 1 - LOG_LOSS_EPSILON);
}

/** Mean negative log-likelihood of 0/1 labels given the positive-class probability. */
export function binaryLogLoss(actual: Numbers, positiveProbability: Numbers): number {
  checkSameLength(actual, positiveProbability, 'log loss');
  let sum = 0;
  for (let i = 0; i < actual.length; i++) {
    const p = clipProbability(positiveProbability[i]);
    sum -= actual[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return sum / actual.length;
}

/** Mean negative log-likelihood of class labels given each row's class probabilities. */
export function multiclassLogLoss(actual: Numbers, probabilities: readonly Numbers[]): number {
  checkSameLength(actual, probabilities, 'log loss');
  let sum = 0;
  for (let i = 0; i < actual.length; i++) {
    const row = probabilities[i];
    if (!isClass(actual[i], row.length)) throw new RangeError(`log loss: row ${i} has class ${actual[i]}, outside 0..${row.length - 1}`);
    // Like sklearn 1.9 (the tests' reference), rows are not renormalised: a row is scored as given.
    sum -= Math.log(clipProbability(row[actual[i]]));
  }
  return sum / actual.length;
}

export function meanSquaredError(actual: Numbers, predicted: Numbers): number {
  checkSameLength(actual, predicted, 'mean squared error');
  let sum = 0;
  for (let i = 0; i < actual.length; i++) sum += (actual[i] - predicted[i]) ** 2;
  return sum / actual.length;
}

export function rootMeanSquaredError(actual: Numbers, predicted: Numbers): number {
  return Math.sqrt(meanSquaredError(actual, predicted));
}

export function meanAbsoluteError(actual: Numbers, predicted: Numbers): number {
  checkSameLength(actual, predicted, 'mean absolute error');
  let sum = 0;
  for (let i = 0; i < actual.length; i++) sum += Math.abs(actual[i] - predicted[i]);
  return sum / actual.length;
}

/**
 * Coefficient of determination. With constant actual values sklearn returns 1 for a perfect fit and
 * 0 otherwise rather than dividing by zero; so does this.
 */
export function r2Score(actual: Numbers, predicted: Numbers): number {
  checkSameLength(actual, predicted, 'r2');
  let mean = 0;
  for (let i = 0; i < actual.length; i++) mean += actual[i];
  mean /= actual.length;
  let residual = 0;
  let total = 0;
  for (let i = 0; i < actual.length; i++) {
    residual += (actual[i] - predicted[i]) ** 2;
    total += (actual[i] - mean) ** 2;
  }
  if (total === 0) return residual === 0 ? 1 : 0;
  return 1 - residual / total;
}

// ---------------------------------------------------------------------------------------------
// Holdout reports: a flat summary the promotion gate reads, and Model Monitor's statistics shape.

/** What a model said about each holdout row, by predictor type. */
export type HoldoutPredictions =
  | {
      predictorType: 'binary_classifier';
      actual: Numbers;
      /** Probability of class 1. */
      scores: Numbers;
    }
  | {
      predictorType: 'multiclass_classifier';
      actual: Numbers;
      /** One probability per class for every row. */
      probabilities: readonly Numbers[];
    }
  | {
      predictorType: 'regressor';
      actual: Numbers;
      predicted: Numbers;
    };

/** The names the promotion gate reads (domain/config's evaluation.metric), plus a few for people. */
export interface ClassificationSummary {
  accuracy: number;
  f1: number;
  /** Null when the holdout has a single class, where AUC is undefined. */
  auc: number | null;
  log_loss: number;
  precision: number;
  recall: number;
}
export interface RegressionSummary {
  rmse: number;
  mae: number;
  mse: number;
  r2: number;
}
export type MetricSummary = ClassificationSummary | RegressionSummary;

/** Model Monitor writes "NaN" (a string) where it has no standard deviation. */
export interface MonitorMetric {
  value: number | 'NaN';
  standard_deviation: number | 'NaN';
}
/** Nested counts keyed by actual label, then predicted label, all as strings. */
export type MonitorConfusionMatrix = Record<string, Record<string, number>>;

export type ModelQualityStatistics =
  | { binary_classification_metrics: Record<string, MonitorMetric | MonitorConfusionMatrix> }
  | { multiclass_classification_metrics: Record<string, MonitorMetric | MonitorConfusionMatrix> }
  | { regression_metrics: Record<string, MonitorMetric> };

export interface HoldoutEvaluation {
  rows: number;
  summary: MetricSummary;
  modelQuality: ModelQualityStatistics;
}

/** Model Monitor reports a standard deviation only from this many rows on. */
export const MIN_ROWS_FOR_STANDARD_DEVIATION = 200;
const SUBSAMPLES = 5;
const SUBSAMPLE_SHARE = 0.8;

/** Predicted class per row: threshold for binary, the most probable class (lowest on ties) for multiclass. */
export function predictedLabels(p: HoldoutPredictions): number[] {
  switch (p.predictorType) {
    case 'binary_classifier':
      return Array.from(p.scores, (s) => (s > BINARY_DECISION_THRESHOLD ? 1 : 0));
    case 'multiclass_classifier':
      return p.probabilities.map(argmax);
    case 'regressor':
      throw new TypeError('a regressor predicts values, not labels');
  }
}

function argmax(values: Numbers): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** Scalar metrics of one (sub)sample; null where the metric is undefined on it. */
type ScalarMetrics = Record<string, number | null>;

function binaryScalars(actual: Numbers, scores: Numbers): ScalarMetrics {
  const predicted = Array.from(scores, (s) => (s > BINARY_DECISION_THRESHOLD ? 1 : 0));
  const [[tn, fp], [fn, tp]] = confusionMatrix(actual, predicted, 2);
  const rate = (num: number, den: number) => (den === 0 ? 0 : num / den);
  const { precision, recall } = binaryScores(actual, predicted);
  // Model Monitor's "best constant classifier" always predicts the positive class.
  const prevalence = (tp + fn) / actual.length;
  const constantRecall = tp + fn > 0 ? 1 : 0;
  return {
    accuracy: (tp + tn) / actual.length,
    precision,
    recall,
    f0_5: fBeta(precision, recall, 0.5),
    f1: fBeta(precision, recall, 1),
    f2: fBeta(precision, recall, 2),
    auc: rocAuc(actual, scores),
    log_loss: binaryLogLoss(actual, scores),
    true_positive_rate: rate(tp, tp + fn),
    true_negative_rate: rate(tn, tn + fp),
    false_positive_rate: rate(fp, fp + tn),
    false_negative_rate: rate(fn, fn + tp),
    accuracy_best_constant_classifier: prevalence,
    precision_best_constant_classifier: prevalence,
    recall_best_constant_classifier: constantRecall,
    f0_5_best_constant_classifier: fBeta(prevalence, constantRecall, 0.5),
    f1_best_constant_classifier: fBeta(prevalence, constantRecall, 1),
    f2_best_constant_classifier: fBeta(prevalence, constantRecall, 2),
  };
}

function multiclassScalars(actual: Numbers, probabilities: readonly Numbers[]): ScalarMetrics {
  const predicted = probabilities.map(argmax);
  const weighted = (beta: number) => weightedScores(actual, predicted, beta);
  // Model Monitor's "best constant classifier" always predicts the most frequent actual class.
  const counts = new Map<number, number>();
  for (let i = 0; i < actual.length; i++) counts.set(actual[i], (counts.get(actual[i]) ?? 0) + 1);
  const majorityShare = Math.max(...counts.values()) / actual.length;
  const constantF = (beta: number) => majorityShare * fBeta(majorityShare, 1, beta);
  return {
    accuracy: accuracy(actual, predicted),
    weighted_recall: weighted(1).recall,
    weighted_precision: weighted(1).precision,
    weighted_f0_5: weighted(0.5).fBeta,
    weighted_f1: weighted(1).fBeta,
    weighted_f2: weighted(2).fBeta,
    macro_f1: macroScores(actual, predicted).fBeta,
    macro_precision: macroScores(actual, predicted).precision,
    macro_recall: macroScores(actual, predicted).recall,
    auc: oneVsRestAuc(actual, probabilities),
    log_loss: multiclassLogLoss(actual, probabilities),
    accuracy_best_constant_classifier: majorityShare,
    weighted_recall_best_constant_classifier: majorityShare,
    weighted_precision_best_constant_classifier: majorityShare * majorityShare,
    weighted_f0_5_best_constant_classifier: constantF(0.5),
    weighted_f1_best_constant_classifier: constantF(1),
    weighted_f2_best_constant_classifier: constantF(2),
  };
}

function regressionScalars(actual: Numbers, predicted: Numbers): ScalarMetrics {
  return {
    mae: meanAbsoluteError(actual, predicted),
    mse: meanSquaredError(actual, predicted),
    rmse: rootMeanSquaredError(actual, predicted),
    r2: r2Score(actual, predicted),
  };
}

function scalarsOf(p: HoldoutPredictions, rows: readonly number[] | null): ScalarMetrics {
  const pick = <T>(values: ArrayLike<T>): T[] => (rows ? rows.map((r) => values[r]) : Array.from(values));
  switch (p.predictorType) {
    case 'binary_classifier':
      return binaryScalars(pick(p.actual), pick(p.scores));
    case 'multiclass_classifier':
      return multiclassScalars(pick(p.actual), pick(p.probabilities));
    case 'regressor':
      return regressionScalars(pick(p.actual), pick(p.predicted));
  }
}

/**
 * Standard deviation of each metric over five random 80% subsamples, Model Monitor's method.
 * The seed makes a report reproducible.
 */
function subsampleStandardDeviations(p: HoldoutPredictions, seed: number): Record<string, number | 'NaN'> {
  const n = p.actual.length;
  const random = seededRandom(seed);
  const samples: ScalarMetrics[] = [];
  for (let s = 0; s < SUBSAMPLES; s++) {
    const rows = Array.from({ length: n }, (_, i) => i);
    const size = Math.floor(n * SUBSAMPLE_SHARE);
    // A partial Fisher-Yates shuffle draws `size` rows without replacement.
    for (let i = 0; i < size; i++) {
      const j = i + Math.floor(random() * (n - i));
      [rows[i], rows[j]] = [rows[j], rows[i]];
    }
    samples.push(scalarsOf(p, rows.slice(0, size)));
  }
  const result: Record<string, number | 'NaN'> = {};
  for (const name of Object.keys(samples[0])) {
    const values = samples.map((m) => m[name]);
    result[name] = values.every((v): v is number => v !== null) ? sampleStandardDeviation(values) : 'NaN';
  }
  return result;
}

function sampleStandardDeviation(values: readonly number[]): number {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.sqrt(values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (values.length - 1));
}

function monitorConfusionMatrix(matrix: number[][]): MonitorConfusionMatrix {
  return Object.fromEntries(matrix.map((row, a) => [String(a), Object.fromEntries(row.map((count, p) => [String(p), count]))]));
}

/**
 * Scores one model on a holdout: the flat summary for the gate and Model Monitor's statistics.
 * `numClasses` sizes the confusion matrix so absent classes still show as zero rows and columns.
 */
export function evaluateHoldout(p: HoldoutPredictions, options: { numClasses?: number; seed?: number } = {}): HoldoutEvaluation {
  const rows = p.actual.length;
  if (rows === 0) throw new RangeError('evaluate: the holdout has no rows');
  const scalars = scalarsOf(p, null);
  const deviations = rows >= MIN_ROWS_FOR_STANDARD_DEVIATION ? subsampleStandardDeviations(p, options.seed ?? 0) : null;
  const metric = (name: string): MonitorMetric => ({
    value: scalars[name] ?? 'NaN',
    standard_deviation: deviations?.[name] ?? 'NaN',
  });
  const metrics = (names: readonly string[]) => Object.fromEntries(names.map((n) => [n, metric(n)]));
  const value = (name: string): number => {
    const v = scalars[name];
    if (v === null) throw new RangeError(`evaluate: ${name} is undefined on this holdout`);
    return v;
  };

  switch (p.predictorType) {
    case 'binary_classifier': {
      const matrix = confusionMatrix(p.actual, predictedLabels(p), 2);
      const { auc: _auc, log_loss: _logLoss, ...monitorNames } = scalars;
      return {
        rows,
        summary: { accuracy: value('accuracy'), f1: value('f1'), auc: scalars.auc, log_loss: value('log_loss'), precision: value('precision'), recall: value('recall') },
        modelQuality: {
          binary_classification_metrics: { confusion_matrix: monitorConfusionMatrix(matrix), ...metrics(Object.keys(monitorNames)), auc: metric('auc') },
        },
      };
    }
    case 'multiclass_classifier': {
      const numClasses = options.numClasses ?? p.probabilities[0].length;
      const matrix = confusionMatrix(p.actual, predictedLabels(p), numClasses);
      // Model Monitor's multiclass report has only weighted scores; macro F1 and AUC go to the summary.
      const monitorNames = Object.keys(scalars).filter((n) => !n.startsWith('macro_') && n !== 'auc' && n !== 'log_loss');
      return {
        rows,
        summary: { accuracy: value('accuracy'), f1: value('macro_f1'), auc: scalars.auc, log_loss: value('log_loss'), precision: value('macro_precision'), recall: value('macro_recall') },
        modelQuality: { multiclass_classification_metrics: { confusion_matrix: monitorConfusionMatrix(matrix), ...metrics(monitorNames) } },
      };
    }
    case 'regressor':
      return {
        rows,
        summary: { rmse: value('rmse'), mae: value('mae'), mse: value('mse'), r2: value('r2') },
        modelQuality: { regression_metrics: metrics(['mae', 'mse', 'rmse', 'r2']) },
      };
  }
}

// ---------------------------------------------------------------------------------------------
// Subsets and resamples of the holdout: per-slice summaries, and the gate's metric on a bootstrap draw.

/** The gate summary on some of the holdout's rows (a slice); null when none of them is given. */
export function summaryOfRows(p: HoldoutPredictions, rows: readonly number[]): MetricSummary | null {
  if (rows.length === 0) return null;
  const s = scalarsOf(p, rows);
  const value = (name: string) => s[name] as number;
  switch (p.predictorType) {
    case 'binary_classifier':
      return { accuracy: value('accuracy'), f1: value('f1'), auc: s.auc, log_loss: value('log_loss'), precision: value('precision'), recall: value('recall') };
    case 'multiclass_classifier':
      return { accuracy: value('accuracy'), f1: value('macro_f1'), auc: s.auc, log_loss: value('log_loss'), precision: value('macro_precision'), recall: value('macro_recall') };
    case 'regressor':
      return { rmse: value('rmse'), mae: value('mae'), mse: value('mse'), r2: value('r2') };
  }
}

/** The metrics the gate can be told to compare (domain/config's evaluation.metric). */
export type GateMetric = 'accuracy' | 'f1' | 'auc' | 'log_loss' | 'rmse' | 'mae';

/**
 * A metric as a function of how many times each holdout row is drawn, as sklearn computes it with
 * `sample_weight`: every row counts that many times, rows drawn 0 times not at all (not even for the
 * label set of a macro average). All ones gives the summary's value. Work that does not depend on the
 * draw (predicted labels, per-row losses, the order of scores for AUC) is done once here, so a
 * bootstrap costs O(rows) per resample. Null where the metric is undefined on the draw (AUC on one class).
 */
export function metricOnDraws(p: HoldoutPredictions, metric: GateMetric): (timesDrawn: ArrayLike<number>) => number | null {
  const n = p.actual.length;
  const weightedMean = (perRow: Float64Array) => (w: ArrayLike<number>) => {
    let sum = 0;
    let total = 0;
    for (let i = 0; i < n; i++) {
      sum += w[i] * perRow[i];
      total += w[i];
    }
    return total === 0 ? null : sum / total;
  };
  if (p.predictorType === 'regressor') {
    if (metric === 'mae') return weightedMean(Float64Array.from({ length: n }, (_, i) => Math.abs(p.actual[i] - p.predicted[i])));
    if (metric === 'rmse') {
      const mse = weightedMean(Float64Array.from({ length: n }, (_, i) => (p.actual[i] - p.predicted[i]) ** 2));
      return (w) => {
        const m = mse(w);
        return m === null ? null : Math.sqrt(m);
      };
    }
    throw new RangeError(`metric ${metric} does not apply to a regressor; use rmse or mae`);
  }
  const predicted = predictedLabels(p);
  const numClasses = p.predictorType === 'binary_classifier' ? 2 : p.probabilities[0].length;
  switch (metric) {
    case 'accuracy':
      return weightedMean(Float64Array.from({ length: n }, (_, i) => (predicted[i] === p.actual[i] ? 1 : 0)));
    case 'log_loss':
      return weightedMean(
        Float64Array.from({ length: n }, (_, i) => {
          // The same arithmetic as binaryLogLoss and multiclassLogLoss, so all ones gives the summary's value exactly.
          if (p.predictorType === 'multiclass_classifier') return -Math.log(clipProbability(p.probabilities[i][p.actual[i]]));
          const score = clipProbability(p.scores[i]);
          return p.actual[i] === 1 ? -Math.log(score) : -Math.log(1 - score);
        }),
      );
    case 'f1':
      return p.predictorType === 'binary_classifier' ? (w) => weightedBinaryF1(p.actual, predicted, w) : (w) => weightedMacroF1(p.actual, predicted, numClasses, w);
    case 'auc': {
      if (p.predictorType === 'binary_classifier') {
        const order = ascendingOrder(p.scores);
        return (w) => weightedAuc(p.actual, 1, p.scores, order, w);
      }
      const columns = Array.from({ length: numClasses }, (_, c) => Float64Array.from(p.probabilities, (row) => row[c]));
      const orders = columns.map(ascendingOrder);
      return (w) => {
        let sum = 0;
        let defined = 0;
        for (let c = 0; c < numClasses; c++) {
          const auc = weightedAuc(p.actual, c, columns[c], orders[c], w);
          if (auc !== null) {
            sum += auc;
            defined++;
          }
        }
        return defined === 0 ? null : sum / defined;
      };
    }
    default:
      throw new RangeError(`metric ${metric} does not apply to a classifier; use accuracy, f1, auc or log_loss`);
  }
}

function ascendingOrder(values: Numbers): Uint32Array {
  return Uint32Array.from({ length: values.length }, (_, i) => i).sort((a, b) => values[a] - values[b]);
}

function weightedBinaryF1(actual: Numbers, predicted: readonly number[], w: ArrayLike<number>): number | null {
  let truePositives = 0;
  let predictedPositives = 0;
  let actualPositives = 0;
  let total = 0;
  for (let i = 0; i < actual.length; i++) {
    total += w[i];
    if (actual[i] === 1) actualPositives += w[i];
    if (predicted[i] === 1) predictedPositives += w[i];
    if (actual[i] === 1 && predicted[i] === 1) truePositives += w[i];
  }
  if (total === 0) return null;
  const precision = predictedPositives === 0 ? 0 : truePositives / predictedPositives;
  const recall = actualPositives === 0 ? 0 : truePositives / actualPositives;
  return fBeta(precision, recall, 1);
}

function weightedMacroF1(actual: Numbers, predicted: readonly number[], numClasses: number, w: ArrayLike<number>): number | null {
  const truePositives = new Float64Array(numClasses);
  const predictedCount = new Float64Array(numClasses);
  const support = new Float64Array(numClasses);
  for (let i = 0; i < actual.length; i++) {
    if (w[i] === 0) continue;
    support[actual[i]] += w[i];
    predictedCount[predicted[i]] += w[i];
    if (actual[i] === predicted[i]) truePositives[actual[i]] += w[i];
  }
  let sum = 0;
  let labels = 0;
  for (let c = 0; c < numClasses; c++) {
    // The label set of a macro average: classes that occur among the drawn rows' actual or predicted labels.
    if (support[c] === 0 && predictedCount[c] === 0) continue;
    labels++;
    const precision = predictedCount[c] === 0 ? 0 : truePositives[c] / predictedCount[c];
    const recall = support[c] === 0 ? 0 : truePositives[c] / support[c];
    sum += fBeta(precision, recall, 1);
  }
  return labels === 0 ? null : sum / labels;
}

/** Weighted Mann-Whitney AUC of `positive` against the rest, scores visited in a precomputed ascending order. */
function weightedAuc(actual: Numbers, positive: number, scores: Numbers, order: Uint32Array, w: ArrayLike<number>): number | null {
  let negativesBelow = 0;
  let pairsWon = 0;
  let positives = 0;
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && scores[order[end + 1]] === scores[order[start]]) end++;
    let groupPositives = 0;
    let groupNegatives = 0;
    for (let k = start; k <= end; k++) {
      const row = order[k];
      if (actual[row] === positive) groupPositives += w[row];
      else groupNegatives += w[row];
    }
    // A positive outranks every negative below it and ties, counting one half, with those beside it.
    pairsWon += groupPositives * (negativesBelow + groupNegatives / 2);
    negativesBelow += groupNegatives;
    positives += groupPositives;
    start = end + 1;
  }
  if (positives === 0 || negativesBelow === 0) return null;
  return pairsWon / (positives * negativesBelow);
}
