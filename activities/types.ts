// What activities hand back to the workflow. Plain JSON: it is stored in the run's history.
import type { FailureClass } from '../domain/failure';
import type { Metrics } from '../domain/gate';
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

export interface Deployment {
  endpointName: string;
  endpointConfigName: string;
  modelName: string;
  /** True when the endpoint was created rather than updated (the first model). */
  created: boolean;
  sageMakerSeconds: number;
}

export interface ServingCheck {
  servingNewModel: boolean;
  answeredBy: string | null;
}
