// The linear learner's `#quality_metric` log lines and the MetricDefinitions that read them back.
// Both live here so the regexes and the lines they parse cannot drift apart. Free of Node
// built-ins and I/O, so pipeline code anywhere can import the definitions for CreateTrainingJob.
import type { PredictorType } from '../../../domain/config';

export interface MetricDefinition {
  Name: string;
  Regex: string;
}

/** Channels whose final metrics the algorithm reports, as the built-in algorithm does. */
export type ScoredChannel = 'validation' | 'test';
const SCORED_CHANNELS: readonly ScoredChannel[] = ['validation', 'test'];

/** A loss is minimised, a score maximised; the log line says which in angle brackets. */
export type MetricKind = 'loss' | 'score';

export interface QualityMetric {
  /** The name in the log line, e.g. `binary_classification_accuracy`. */
  logName: string;
  kind: MetricKind;
  value: number;
}

/**
 * `#quality_metric: host=algo-1, epoch=3, train mse_objective <loss>=0.41` (per epoch) or
 * `#quality_metric: host=algo-1, validation rmse <loss>=0.64` (final).
 */
export function qualityMetricLine(host: string, channel: 'train' | ScoredChannel, metric: QualityMetric, epoch?: number): string {
  const where = epoch === undefined ? '' : ` epoch=${epoch},`;
  return `#quality_metric: host=${host},${where} ${channel} ${metric.logName} <${metric.kind}>=${metric.value}`;
}

/** Final per-channel metrics by predictor type: [metric name, log name, kind]. */
const FINAL_METRICS: Record<PredictorType, readonly (readonly [string, string, MetricKind])[]> = {
  binary_classifier: [
    ['binary_classification_accuracy', 'binary_classification_accuracy', 'score'],
    ['binary_f_beta', 'binary_f_1.000', 'score'],
    ['precision', 'precision', 'score'],
    ['recall', 'recall', 'score'],
    ['roc_auc_score', 'roc_auc_score', 'score'],
  ],
  multiclass_classifier: [
    ['multiclass_accuracy', 'multiclass_accuracy', 'score'],
    ['macro_f_beta', 'macro_f_1.000', 'score'],
    ['macro_precision', 'macro_precision', 'score'],
    ['macro_recall', 'macro_recall', 'score'],
  ],
  regressor: [
    ['mse', 'mse', 'loss'],
    ['rmse', 'rmse', 'loss'],
    ['absolute_loss', 'absolute_loss', 'loss'],
  ],
};

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `objective_loss` matches both the per-epoch and the final objective lines; the last match is the final value. */
function objectiveDefinition(channel: 'train' | ScoredChannel): MetricDefinition {
  return { Name: `${channel}:objective_loss`, Regex: `#quality_metric: host=\\S+,.* ${channel} \\S+_objective <loss>=(\\S+)` };
}

/** The metric definitions that apply to one predictor type. */
export function linearLearnerMetricDefinitions(predictorType: PredictorType): MetricDefinition[] {
  return [
    objectiveDefinition('train'),
    ...SCORED_CHANNELS.flatMap((channel) => [
      objectiveDefinition(channel),
      ...FINAL_METRICS[predictorType].map(([name, logName, kind]) => ({
        Name: `${channel}:${name}`,
        Regex: `#quality_metric: host=\\S+, ${channel} ${escapeRegex(logName)} <${kind}>=(\\S+)`,
      })),
    ]),
  ];
}

/**
 * Every metric the algorithm can log, for any predictor type (27, under SageMaker's limit of 40
 * per job). Definitions whose lines never appear simply record nothing.
 */
export const LINEAR_LEARNER_METRIC_DEFINITIONS: readonly MetricDefinition[] = (() => {
  const byName = new Map<string, MetricDefinition>();
  for (const type of ['binary_classifier', 'multiclass_classifier', 'regressor'] as const) {
    for (const d of linearLearnerMetricDefinitions(type)) byName.set(d.Name, d);
  }
  return [...byName.values()];
})();

/** The log name of a final metric, for the trainer to print what the definitions expect. */
export function finalMetricLogName(predictorType: PredictorType, name: string): { logName: string; kind: MetricKind } {
  const found = FINAL_METRICS[predictorType].find(([n]) => n === name);
  if (!found) throw new Error(`no final metric ${name} for ${predictorType}`);
  return { logName: found[1], kind: found[2] };
}
