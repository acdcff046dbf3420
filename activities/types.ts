// What activities hand back to the workflow. Plain JSON: it is stored in the run's history.
import type { FailureClass } from '../domain/failure';
import type { Metrics, PairedStatistics, SliceMetrics } from '../domain/gate';
import type { ChannelSource } from '../domain/dataset-merge/channels';
import type { FeatureVerdict } from '../domain/drift';
import type { DriftMode, ModelMonitorEvidence } from '../domain/drift/model-monitor';

/** The serving model: the latest Approved package that is actually deployed to the endpoint. */
export interface Champion {
  modelPackageArn: string;
  modelPackageVersion: number;
  modelDataUrl: string;
  image: string;
  trainingJobName: string | null;
  datasetVersion: string | null;
  datasetManifestUri: string | null;
  endpointConfigName: string;
  modelName: string;
  /** Where the endpoint's data capture writes, if it captures. */
  captureS3Uri: string | null;
}

export interface FeatureDriftSummary {
  name: string;
  method: string;
  statistic: number;
  pValue?: number;
  threshold: number;
  drifted: boolean;
  verdict: FeatureVerdict;
}

export interface DriftSummary {
  verdict: 'drift' | 'no_drift' | 'insufficient_data' | 'no_champion';
  detected: boolean;
  /** Share of drifted features, 0..1. */
  score: number;
  driftedFeatures: string[];
  features: FeatureDriftSummary[];
  /** drift-report.json; the other files sit beside it. null when there was no champion to compare. */
  reportUri: string | null;
  /** drift-report.html: the verdict, the per-feature table and a histogram per feature. */
  htmlReportUri: string | null;
  /** The window's statistics.json, in Model Monitor's format. */
  statisticsUri: string | null;
  /** The stage's constraint_violations.json, in Model Monitor's format (an empty list when nothing was found). */
  violationsUri: string | null;
  /** drift.mode as run; null without a champion. */
  mode: DriftMode | null;
  currentCount: number;
  referenceCount: number;
  /** A monitoring execution's own verdict, when the run was given its constraint_violations.json. */
  modelMonitor: ModelMonitorEvidence | null;
}

export interface DatasetVersionSummary {
  versionId: string;
  parent: string | null;
  manifestUri: string;
  rows: number;
  newRows: number;
  duplicates: number;
  conflicts: number;
  quarantined: number;
  quarantinedByReason: Record<string, number>;
  quarantineUri: string | null;
  channels: { train: string; validation: string; holdout: string };
  /** What the train and validation channels read (prefix, manifest file or augmented manifest); absent for versions from before. */
  channelSources?: { train: ChannelSource; validation: ChannelSource };
  /** True when the version already existed (same inputs and parameters): nothing was written. */
  reused: boolean;
}

export interface TrainingOutcome {
  jobName: string;
  attempt: number;
  status: 'Completed' | 'Failed' | 'Stopped';
  secondaryStatus: string;
  failureReason?: string;
  failureClass?: FailureClass;
  modelDataUrl?: string;
  finalMetrics: Record<string, number>;
  /** The champion artifact the job's `model` channel warm-started from. */
  incrementalFrom: string | null;
  resumedFromCheckpoint: boolean;
  hyperparameters: Record<string, string>;
  /** Hyperparameters that differ from the champion's training job: name → [champion, candidate]. */
  hyperparameterChanges: Record<string, [string | null, string]>;
  /** True when an existing job was found and attached to instead of created. */
  reattached: boolean;
  sageMakerSeconds: number;
  /** How the run learned the job had ended: SageMaker's state-change event, or its own poll. */
  noticedBy?: 'event' | 'poll';
}

export interface EvaluationOutcome {
  jobName: string;
  reportUri: string;
  candidateStatisticsUri: string;
  candidate: Metrics;
  champion: Metrics | null;
  holdoutRows: number;
  /** Both models' metrics on each slice of evaluation.slices (docs/gate.md); empty without slices. */
  slices: SliceMetrics[];
  /** McNemar's discordant pairs and the paired bootstrap interval of the primary metric; null without a champion. */
  paired: PairedStatistics | null;
  /** holdout-predictions.jsonl beside the report: each holdout row's answers from both models, as the endpoint gives them. */
  predictionsUri: string;
  /** The candidate training job's FinalMetricDataList, for reporting; the gate judges the holdout. */
  trainingMetrics: Record<string, number>;
  /** True when an existing job was found and attached to instead of created. */
  reattached: boolean;
  sageMakerSeconds: number;
  /** How the run learned the job had ended: SageMaker's state-change event, or its own poll. */
  noticedBy?: 'event' | 'poll';
}

export interface RegisteredCandidate {
  modelPackageArn: string;
  version: number;
  approvalStatus: 'Approved' | 'Rejected' | 'PendingManualApproval';
}

/** What deployCandidate did. `rolled_back`: SageMaker rolled the blue/green update back, the champion still serves. */
export interface Deployment {
  status: 'deployed' | 'rolled_back' | 'failed';
  endpointName: string;
  /** The candidate's endpoint config (whether or not it took). */
  endpointConfigName: string;
  modelName: string;
  /** True when the endpoint was created rather than updated (the first model). */
  created: boolean;
  /** True when an earlier attempt's create or update was found and waited on instead of issued again. */
  reattached: boolean;
  /** The endpoint config serving when the activity returned: the champion's after a rollback, null if none serves. */
  servingConfig: string | null;
  /** Why it did not take: SageMaker's FailureReason. */
  reason?: string;
  sageMakerSeconds: number;
}

export interface ServingCheck {
  servingNewModel: boolean;
  answeredBy: string | null;
}

/** One holdout row whose answer differed from the evaluation's prediction (or failed). Rows are 1-based. */
export interface SmokeMismatch {
  row: number;
  expected: unknown;
  actual: unknown;
  detail: string;
}

/**
 * The smoke test after a switch. `passed`: every row matched. `rolled_back`: a row did not, and the
 * champion's config serves again. `failed`: a row did not and there was no champion (or putting it back
 * did not take). `skipped`: endpoint.smokeTest.rows is 0.
 */
export interface SmokeTestOutcome {
  status: 'passed' | 'rolled_back' | 'failed' | 'skipped';
  rows: number;
  mismatches: SmokeMismatch[];
  reason?: string;
  servingConfig: string | null;
  /** The training job the serving container named in its custom attributes. */
  answeredBy: string | null;
}

/** What rollbackEndpoint did. `rolled_back`: the requested config serves; `failed`: SageMaker rolled the rollback itself back. */
export interface EndpointRollback {
  status: 'rolled_back' | 'failed';
  endpointName: string;
  /** The config put back (for a model package, the one created for it). */
  endpointConfigName: string;
  /** What served before. */
  previousConfig: string | null;
  servingConfig: string | null;
  reason?: string;
  reattached: boolean;
  sageMakerSeconds: number;
}
