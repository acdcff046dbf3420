// The pipeline config: one zod schema, validated at the edge (CLI, worker start, workflow input).
// Types flow from here; nothing else re-declares them.
import { z } from 'zod';
import { LabelledDataInputSchema, checkInputAgainstSchema } from './labelled-data/options';
import { MAX_CONTAINER_ARGUMENT_LENGTH, sliceArgument } from './evaluation-slices';
import { S3_URI } from './s3-uri';

/** SageMaker's pattern for job, model, endpoint and package-group names. */
export const SAGEMAKER_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
const sageMakerName = z.string().regex(SAGEMAKER_NAME, 'must match ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62} (1-63 letters, digits, hyphens)');

export { S3_URI };
const s3Uri = z.string().regex(S3_URI, 'must be an s3://bucket/prefix URI');

const roleArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/, 'must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)');

function attemptPolicy(defaults: { attempts: number; backoffSeconds: number; resume: boolean }) {
  return z
    .object({
      /** Attempts in all (the first included) before the run fails. */
      attempts: z.number().int().min(1).max(20).default(defaults.attempts),
      /** Wait before the next attempt, doubling each time. */
      backoffSeconds: z.number().min(0).max(86_400).default(defaults.backoffSeconds),
      /** Start the next attempt from the same checkpoint location (true) or a fresh one. */
      resume: z.boolean().default(defaults.resume),
    })
    .prefault({});
}
export type AttemptPolicy = z.output<ReturnType<typeof attemptPolicy>>;

/**
 * Profiling in the worker reads about 50 MB/s of captured traffic on one core (docs/drift.md), so 2 GiB
 * is some 40 s of a worker core; past that a processing job, on its own machine, is worth its minutes of start-up.
 */
export const DRIFT_PROCESSING_JOB_ABOVE_BYTES = 2 * 1024 ** 3;

export const FeatureSchema = z.object({
  name: z.string().min(1),
  type: z.enum(['numerical', 'categorical']),
});
export type Feature = z.infer<typeof FeatureSchema>;

export const PredictorType = z.enum(['binary_classifier', 'multiclass_classifier', 'regressor']);
export type PredictorType = z.infer<typeof PredictorType>;

/** The dataset's shape. Rows are headerless CSV with the label first (the built-in algorithms' convention). */
export const DatasetSchemaSchema = z
  .object({
    label: z.object({
      name: z.string().min(1),
      /** Class labels are 0..classes-1; regression labels are any finite number. */
      classes: z.number().int().min(2).optional(),
      /** Names of classes 0..classes-1, for inputs that give labels by name (Ground Truth's class-name). */
      classNames: z.array(z.string().min(1)).optional(),
    }),
    features: z.array(FeatureSchema).min(1, 'needs at least one feature'),
  })
  .superRefine((s, ctx) => {
    const seen = new Set<string>();
    s.features.forEach((f, i) => {
      if (seen.has(f.name)) ctx.addIssue({ code: 'custom', path: ['features', i, 'name'], message: `duplicate feature name "${f.name}"` });
      seen.add(f.name);
    });
    const names = s.label.classNames;
    if (names && names.length !== s.label.classes) {
      ctx.addIssue({ code: 'custom', path: ['label', 'classNames'], message: `lists ${names.length} names; label.classes must be set to the same number` });
    }
    if (names && new Set(names).size !== names.length) ctx.addIssue({ code: 'custom', path: ['label', 'classNames'], message: 'class names must be unique' });
  });
export type DatasetSchema = z.infer<typeof DatasetSchemaSchema>;

/** The metrics an evaluation summary holds for either kind of model; gate thresholds may bound any of them. */
export const SUMMARY_METRICS = {
  classification: ['accuracy', 'f1', 'auc', 'log_loss', 'precision', 'recall'],
  regression: ['rmse', 'mae', 'mse', 'r2'],
} as const;
const summaryMetricName = z.enum([...SUMMARY_METRICS.classification, ...SUMMARY_METRICS.regression]);
export type SummaryMetricName = z.infer<typeof summaryMetricName>;

/** A slice of the holdout scored on its own: one per value of a categorical feature, or buckets of a numerical one. */
export const EvaluationSliceSchema = z
  .object({
    feature: z.string().min(1),
    /** Numerical features: bucket edges, strictly increasing; buckets are [e0, e1) ... with one below and one above. */
    edges: z.array(z.number().finite()).min(1).max(20).optional(),
  })
  .strict();

const metricBound = z
  .object({ min: z.number().finite().optional(), max: z.number().finite().optional() })
  .strict()
  .refine((b) => b.min !== undefined || b.max !== undefined, 'needs min, max or both')
  .refine((b) => b.min === undefined || b.max === undefined || b.min <= b.max, 'min must not exceed max');

/** The promotion gate's policy (docs/gate.md). The primary metric is evaluation.metric. */
export const GateSettingsSchema = z
  .object({
    /**
     * How much the candidate must beat the champion by on the primary metric: a number is absolute, in
     * metric units (0: a tie promotes); `relative` is a share of the champion's value (0.02: 2% better).
     * Both may be given; both must then be met. The candidate must never be worse.
     */
    minImprovement: z
      .union([z.number().min(0), z.object({ absolute: z.number().min(0).optional(), relative: z.number().min(0).optional() }).strict()])
      .default(0),
    /** An absolute floor (ceiling for error metrics) on the primary metric, champion or not. */
    threshold: z.number().finite().optional(),
    /** Absolute bounds on any summary metric, e.g. { accuracy: { min: 0.8 }, log_loss: { max: 0.5 } }. */
    thresholds: z.partialRecord(summaryMetricName, metricBound).default({}),
    /** How much worse than the champion the candidate may be on any slice, in primary-metric units. Unset: slices are reported, not gated. */
    sliceTolerance: z.number().min(0).optional(),
    /** Slices with fewer holdout rows are reported but not gated. */
    minSliceRows: z.number().int().min(1).default(30),
    /** The improvement must also be significant on the paired holdout predictions. */
    significance: z
      .discriminatedUnion('test', [
        z.object({
          test: z.literal('mcnemar'),
          alpha: z.number().gt(0).lt(1).default(0.05),
          /** true: exact binomial test; false: chi-square with continuity correction (statsmodels' two variants). */
          exact: z.boolean().default(true),
        }).strict(),
        z.object({ test: z.literal('paired-bootstrap'), alpha: z.number().gt(0).lt(1).default(0.05) }).strict(),
      ])
      .optional(),
  })
  .prefault({});
export type GateSettings = z.output<typeof GateSettingsSchema>;

/** The merge's in-memory index bound before it spills to disk (docs/datasets.md). */
export const DATASET_MERGE_MEMORY_BYTES = 256 * 1024 ** 2;
/** Past this much input the merge is worth a processing job's minutes of start-up (docs/datasets.md). */
export const DATASET_PROCESSING_JOB_ABOVE_BYTES = 4 * 1024 ** 3;

/** How a dataset version's train and validation splits reach the training job. */
export const DatasetChannelSettingsSchema = z.object({
  /** csv: label-first CSV objects; augmented-manifest: one JSON Lines object per split (Pipe mode only). */
  format: z.enum(['csv', 'augmented-manifest']).default('csv'),
  inputMode: z.enum(['File', 'Pipe', 'FastFile']).default('File'),
  /** Gzip: the channel reads gzipped copies of the CSV objects (Pipe mode only, as SageMaker requires). */
  compression: z.enum(['None', 'Gzip']).default('None'),
  /** RecordIO: SageMaker wraps each object (or augmented-manifest attribute) in a RecordIO record (Pipe mode only). */
  recordWrapper: z.enum(['None', 'RecordIO']).default('None'),
  /** auto: a prefix for one object, a ManifestFile listing the objects for several. */
  s3DataType: z.enum(['auto', 'S3Prefix', 'ManifestFile']).default('auto'),
  distribution: z.enum(['FullyReplicated', 'ShardedByS3Key']).default('FullyReplicated'),
  /** Rows per CSV object; a split past it becomes several objects. */
  objectRows: z.number().int().min(1).default(1_000_000),
});
export type DatasetChannelSettings = z.output<typeof DatasetChannelSettingsSchema>;

/** SageMaker's CapacitySize: a number of instances or a share of the new fleet's capacity. */
const CapacitySizeSchema = z.object({
  type: z.enum(['INSTANCE_COUNT', 'CAPACITY_PERCENT']),
  value: z.number().int().min(1),
});
export type CapacitySize = z.output<typeof CapacitySizeSchema>;

/**
 * UpdateEndpoint's DeploymentConfig (BlueGreenUpdatePolicy and AutoRollbackConfiguration), with SageMaker's
 * ranges. The checks that need the variant's instance count live in PipelineConfigSchema's refinement.
 */
export const DeploymentSettingsSchema = z.object({
  /** ALL_AT_ONCE: one step. CANARY: canarySize first, then the rest. LINEAR: linearStepSize at a time. */
  trafficRouting: z.enum(['ALL_AT_ONCE', 'CANARY', 'LINEAR']).default('ALL_AT_ONCE'),
  /** CANARY: at most 50% of the variant's instances. */
  canarySize: CapacitySizeSchema.optional(),
  /** LINEAR: 10-50% of the variant's instances per step. */
  linearStepSize: CapacitySizeSchema.optional(),
  /** Seconds between traffic steps (WaitIntervalInSeconds), during which the alarms are watched. */
  waitIntervalSeconds: z.number().int().min(0).max(3600).default(0),
  /** The final baking period (TerminationWaitInSeconds): all traffic on the new fleet, the old one kept. */
  bakingSeconds: z.number().int().min(0).max(3600).default(0),
  /** MaximumExecutionTimeoutInSeconds; must exceed the waits above. Unset: SageMaker's own limit. */
  maximumExecutionTimeoutSeconds: z.number().int().min(600).max(28_800).optional(),
  /** CloudWatch alarm names (AutoRollbackConfiguration.Alarms): one in ALARM during the rollout rolls it back. */
  rollbackAlarms: z.array(z.string().min(1).max(255).regex(/^(?!\s*$).+$/, 'must not be blank')).max(10).default([]),
});
export type DeploymentSettings = z.output<typeof DeploymentSettingsSchema>;

/** Traffic steps of a rollout and the seconds it waits in all, as SageMaker counts them against the maximum execution timeout. */
export function rolloutWaitSeconds(d: DeploymentSettings, instanceCount: number): number {
  const share = (size: CapacitySize | undefined) => (!size ? 1 : size.type === 'CAPACITY_PERCENT' ? size.value / 100 : size.value / instanceCount);
  const steps = d.trafficRouting === 'ALL_AT_ONCE' ? 1 : d.trafficRouting === 'CANARY' ? 2 : Math.ceil(1 / share(d.linearStepSize));
  return d.waitIntervalSeconds * (steps - 1) + d.bakingSeconds;
}

/** The deployment's problems, each with its path under endpoint.deployment. */
export function deploymentIssues(d: DeploymentSettings, instanceCount: number): { path: string[]; message: string }[] {
  const issues: { path: string[]; message: string }[] = [];
  const fraction = (size: CapacitySize) => (size.type === 'CAPACITY_PERCENT' ? size.value / 100 : size.value / instanceCount);
  const of = `of the variant's ${instanceCount} instance(s) (endpoint.initialInstanceCount)`;
  if (d.trafficRouting === 'CANARY') {
    if (!d.canarySize) issues.push({ path: ['canarySize'], message: 'CANARY traffic routing needs a canarySize' });
    else if (fraction(d.canarySize) > 0.5) issues.push({ path: ['canarySize'], message: `must be at most 50% ${of}, as SageMaker requires` });
  } else if (d.canarySize) issues.push({ path: ['canarySize'], message: `applies to CANARY traffic routing only, not ${d.trafficRouting}` });
  if (d.trafficRouting === 'LINEAR') {
    if (!d.linearStepSize) issues.push({ path: ['linearStepSize'], message: 'LINEAR traffic routing needs a linearStepSize' });
    else if (fraction(d.linearStepSize) < 0.1 || fraction(d.linearStepSize) > 0.5) {
      issues.push({ path: ['linearStepSize'], message: `must be 10-50% ${of}, as SageMaker requires` });
    }
  } else if (d.linearStepSize) issues.push({ path: ['linearStepSize'], message: `applies to LINEAR traffic routing only, not ${d.trafficRouting}` });
  if (issues.length === 0 && d.maximumExecutionTimeoutSeconds !== undefined) {
    const waits = rolloutWaitSeconds(d, instanceCount);
    if (d.maximumExecutionTimeoutSeconds <= waits) {
      issues.push({ path: ['maximumExecutionTimeoutSeconds'], message: `must be larger than the rollout's waits (${waits} s of wait intervals and baking), as SageMaker requires` });
    }
  }
  return issues;
}

const metricName = z.enum(['accuracy', 'f1', 'auc', 'log_loss', 'rmse', 'mae']);
export type MetricName = z.infer<typeof metricName>;

export const PipelineConfigSchema = z
  .object({
    /** The model this pipeline keeps fresh; also the ModelPackageGroup name and the per-model workflow id. */
    model: sageMakerName,
    roleArn,
    predictorType: PredictorType,
    endpoint: z.object({
      name: sageMakerName,
      variant: sageMakerName.default('AllTraffic'),
      instanceType: z.string().default('ml.m5.large'),
      initialInstanceCount: z.number().int().min(1).default(1),
      /** Data capture for a newly created endpoint; an existing endpoint's DataCaptureConfig is carried over. */
      captureS3Uri: s3Uri,
      /** Tags on every model and endpoint config the pipeline creates (cost allocation, ownership), beside `retraining:model`. */
      tags: z.record(z.string().min(1).max(128), z.string().max(256)).default({}),
      /** How UpdateEndpoint moves traffic to a new model: SageMaker's blue/green DeploymentConfig (docs/deployment.md). */
      deployment: DeploymentSettingsSchema.prefault({}),
      /** After the switch, the first holdout rows sent through InvokeEndpoint and checked against the evaluation's predictions. */
      smokeTest: z
        .object({
          /** Holdout rows to send; 0 skips the smoke test. */
          rows: z.number().int().min(0).max(1000).default(20),
          /** Relative tolerance when comparing numbers (absolute below 1e-12). */
          tolerance: z.number().min(0).max(1).default(1e-6),
        })
        .prefault({}),
    }),
    drift: z
      .object({
        /**
         * What the window is compared with: the training data of the champion's dataset version, or a
         * Model Monitor baseline (a baseline job's statistics.json and constraints.json), whose KLL sketches
         * and categorical buckets become the reference and whose monitoring_config picks each feature's
         * method and threshold (docs/drift.md).
         */
        baseline: z
          .discriminatedUnion('kind', [
            z.object({ kind: z.literal('dataset') }),
            z.object({ kind: z.literal('model-monitor'), statisticsS3Uri: s3Uri, constraintsS3Uri: s3Uri }),
          ])
          .default({ kind: 'dataset' }),
        /**
         * default: a method per feature (Evidently's table, or the Model Monitor baseline's config) and the
         * drifted share against driftShare. model-monitor: Model Monitor's six checks on the window's
         * statistics.json; features its baseline_drift_check flags count as drifted, against driftShare.
         */
        mode: z.enum(['default', 'model-monitor']).default('default'),
        /**
         * When the run is given a monitoring execution's constraint_violations.json, count the features its
         * baseline_drift_check flagged as drifted (otherwise it is recorded as evidence only).
         */
        trustModelMonitor: z.boolean().default(false),
        /** How far back to read captured traffic. */
        windowHours: z.number().positive().default(24),
        /** Below this many captured records the verdict is "insufficient data", never "no drift". */
        minSamples: z.number().int().min(1).default(100),
        /** p-value below which a KS or chi-square test calls a feature drifted. */
        pValueThreshold: z.number().gt(0).lt(1).default(0.05),
        /** PSI at or above which a feature is drifted (0.25 = "significant" by the usual rule of thumb). */
        psiThreshold: z.number().positive().default(0.25),
        /** The dataset drifts when at least this share of features drift. */
        driftShare: z.number().gt(0).max(1).default(0.5),
        /** Capture objects read at once (and hourly prefixes listed at once). */
        readConcurrency: z.number().int().min(1).max(64).default(8),
        /**
         * Threads that parse and fold captured traffic in the worker (1: the activity's own thread, which
         * always reads, merges and sketches). 'auto': every core but that one (os.availableParallelism() - 1)
         * for a window of 32 MiB or more in several objects, else 1; so 1 on two cores, where a fold thread
         * measured slower than none (docs/drift.md). The profile is the same whatever the number; each
         * thread holds only the objects in flight it is given.
         */
        profilingThreads: z.union([z.literal('auto'), z.number().int().min(1).max(64)]).default('auto'),
        /** Categories counted per categorical feature; values of rarer ones past the cap are pooled and reported. */
        maxCategories: z.number().int().min(1).max(100_000).default(1000),
        /**
         * With a dataset baseline: keep the training split's profile under
         * {reportsS3Uri}/{model}/baseline-profiles/{datasetVersion}/ and reuse it while the version, the
         * split's objects, the columns and the profile limits are the same, so a run reads only its window.
         * false: the split is read and profiled every run.
         */
        keepBaselineProfile: z.boolean().default(true),
        /**
         * Bytes to read (the window's capture objects plus the baseline split) above which the profiling
         * runs as a SageMaker Processing job instead of in the worker. Needs `processingJob.image`.
         */
        processingJobAboveBytes: z.number().int().min(0).default(DRIFT_PROCESSING_JOB_ABOVE_BYTES),
        processingJob: z
          .object({
            /** The drift image (local: .../sagemaker-retraining-drift). Unset: every window is profiled in the worker. */
            image: z.string().min(1).optional(),
            instanceType: z.string().default('ml.m5.xlarge'),
            /** At least this; raised to fit the inputs, which File mode copies onto the volume. */
            volumeSizeInGB: z.number().int().min(1).max(16_384).default(30),
            maxRuntimeInSeconds: z.number().int().min(60).max(432_000).default(3600),
          })
          .prefault({}),
      })
      .prefault({}),
    dataset: z.object({
      /** Where dataset versions live: {root}/{model}/{versionId}/... */
      rootS3Uri: s3Uri,
      /** Newly labelled data to merge (every object under the prefix), written as `input` says. */
      newDataS3Uri: s3Uri,
      schema: DatasetSchemaSchema,
      /** Shares of new rows routed, by a stable hash of the row, to validation and the fixed holdout. */
      validationShare: z.number().min(0).lt(1).default(0.1),
      holdoutShare: z.number().gt(0).lt(1).default(0.2),
      /** The new data's format, where its fields are, and label-quality filters (domain/labelled-data). */
      input: LabelledDataInputSchema,
      /** What makes two rows the same row: their features (a content hash) or the key the record carries (input.fields.key). */
      dedupKey: z.enum(['content', 'record-key']).default('content'),
      /** Two contents for one row: keep the existing one, let the newest win, or quarantine the disagreeing lines. */
      conflictPolicy: z.enum(['keep-existing', 'newest-wins', 'quarantine-conflicts']).default('quarantine-conflicts'),
      retention: z
        .object({
          /** Keep at most this many rows, the newest by record time. */
          maxRows: z.number().int().min(1).optional(),
          /** Retire rows older than this, counted back from the newest record time in the version. */
          maxAgeDays: z.number().positive().optional(),
          /** Favour recent rows: a train row appears maxCopies times when newest, half as often each half-life older, at least once. */
          recencyWeights: z.object({ halfLifeDays: z.number().positive(), maxCopies: z.number().int().min(2).max(100) }).optional(),
        })
        .prefault({}),
      channels: DatasetChannelSettingsSchema.prefault({}),
      merge: z
        .object({
          /** Memory the de-duplication index may hold before it spills to disk partitions. */
          memoryBytes: z.number().int().min(1024 * 1024).default(DATASET_MERGE_MEMORY_BYTES),
          /** Where spilled partitions go (default: the OS temp directory). */
          workDir: z.string().min(1).optional(),
        })
        .prefault({}),
      /** Bytes of input (parent rows plus new sources) above which the merge runs as a SageMaker Processing job. Needs `processingJob.image`. */
      processingJobAboveBytes: z.number().int().min(0).default(DATASET_PROCESSING_JOB_ABOVE_BYTES),
      processingJob: z
        .object({
          /** The dataset image (local: .../sagemaker-retraining-dataset). Unset: every merge runs in the worker. */
          image: z.string().min(1).optional(),
          instanceType: z.string().default('ml.m5.xlarge'),
          /** At least this; raised to fit inputs, outputs and spilled partitions. */
          volumeSizeInGB: z.number().int().min(1).max(16_384).default(30),
          maxRuntimeInSeconds: z.number().int().min(60).max(432_000).default(7200),
        })
        .prefault({}),
    }),
    training: z.object({
      image: z.string().min(1),
      instanceType: z.string().default('ml.m5.large'),
      instanceCount: z.number().int().min(1).default(1),
      volumeSizeInGB: z.number().int().min(1).default(10),
      maxRuntimeInSeconds: z.number().int().min(1).default(3600),
      outputS3Uri: s3Uri,
      /** Training jobs checkpoint here so a stopped job can resume. */
      checkpointS3Uri: s3Uri.optional(),
      /** Override the champion's hyperparameters; the rest are inherited from its training job. */
      hyperparameters: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
      /** Regexes that pull metrics out of the job's logs (FinalMetricDataList). */
      metricDefinitions: z.array(z.object({ Name: z.string().min(1), Regex: z.string().min(1) })).max(40).default([]),
      /** Environment variables for the training container. */
      environment: z.record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]{0,1023}$/, 'must be a valid environment variable name'), z.string().max(512)).default({}),
      /** Tags on every training job, beside the pipeline's own `retraining:*` tags. */
      tags: z.record(z.string().min(1).max(128), z.string().max(256)).default({}),
      vpcConfig: z
        .object({
          securityGroupIds: z.array(z.string().regex(/^[-0-9a-zA-Z]+$/)).min(1).max(5),
          subnets: z.array(z.string().regex(/^[-0-9a-zA-Z]+$/)).min(1).max(16),
        })
        .optional(),
      enableNetworkIsolation: z.boolean().default(false),
      enableInterContainerTrafficEncryption: z.boolean().default(false),
      /** KMS key for the model artifacts (OutputDataConfig.KmsKeyId). */
      outputKmsKeyId: z.string().min(1).max(2048).optional(),
      /** KMS key for the training volume (ResourceConfig.VolumeKmsKeyId). */
      volumeKmsKeyId: z.string().min(1).max(2048).optional(),
      /** Managed spot training: present means on. SageMaker requires MaxWaitTimeInSeconds >= MaxRuntimeInSeconds. */
      managedSpot: z.object({ maxWaitTimeInSeconds: z.number().int().min(1) }).optional(),
      /** SageMaker's own in-job retry for internal errors (RetryStrategy.MaximumRetryAttempts). */
      retryStrategy: z.object({ maximumRetryAttempts: z.number().int().min(1).max(30) }).optional(),
      /** Instance types to fall back to, in order, when the configured one hits a quota or capacity limit. */
      fallbackInstanceTypes: z.array(z.string().regex(/^ml\./, 'must be an ml.* instance type')).default([]),
      /** What a training attempt that ends early leads to, by failure class (see domain/attempt-policy.ts). */
      failurePolicy: z
        .object({
          capacity: attemptPolicy({ attempts: 3, backoffSeconds: 300, resume: true }),
          stoppedBySageMaker: attemptPolicy({ attempts: 3, backoffSeconds: 0, resume: true }),
          quota: attemptPolicy({ attempts: 3, backoffSeconds: 600, resume: true }),
          /** A job SageMaker itself failed (InternalServerError): its fault, not the model's. */
          serviceFault: attemptPolicy({ attempts: 3, backoffSeconds: 60, resume: true }),
        })
        .prefault({}),
    }),
    evaluation: z.object({
      image: z.string().min(1),
      instanceType: z.string().default('ml.m5.large'),
      outputS3Uri: s3Uri,
      /** The holdout metric the gate compares. */
      metric: metricName.default('accuracy'),
      /** The evaluation job's StoppingCondition: SageMaker stops it past this. */
      maxRuntimeInSeconds: z.number().int().min(1).max(432_000).default(3600),
      /** Features whose slices are scored on their own (docs/gate.md); at most 20, each one container argument. */
      slices: z.array(EvaluationSliceSchema).max(20).default([]),
      /**
       * Values of a categorical slice feature with a slice of their own; rarer values share one "other" slice.
       * At most 50: slices and their gate checks travel in the run's history, under Temporal's 2 MB payload limit.
       */
      maxSliceValues: z.number().int().min(1).max(50).default(50),
      /** The paired bootstrap of the primary metric's improvement; its confidence is 1 - gate.significance.alpha (0.95 without). */
      bootstrap: z
        .object({
          resamples: z.number().int().min(100).max(100_000).default(1000),
          seed: z.number().int().min(0).max(2 ** 32 - 1).default(0),
        })
        .prefault({}),
    }),
    gate: GateSettingsSchema,
    /**
     * Who lets a candidate that passed the gate reach the endpoint. automatic: the gate alone. manual: the
     * run registers it as PendingManualApproval and waits for a person (the `approve`/`reject` Update, or
     * a status change made in SageMaker Model Registry); no decision within timeoutSeconds is a rejection.
     */
    approval: z
      .object({
        mode: z.enum(['automatic', 'manual']).default('automatic'),
        /** How long a manual approval may take (default 7 days). */
        timeoutSeconds: z.number().int().min(1).max(365 * 86_400).default(7 * 86_400),
      })
      .prefault({}),
    /** Drift reports and other run artifacts. */
    reportsS3Uri: s3Uri,
    /** How quickly a run notices a dead worker and moves its activity to another one. */
    orchestration: z
      .object({
        /** Activities that wait on SageMaker or stream data heartbeat; silence this long means the worker is gone. */
        heartbeatTimeoutSeconds: z.number().int().min(5).max(3600).default(60),
        /**
         * Short calls (job creation, registry, champion lookup): an attempt that takes longer is retried
         * elsewhere. It includes time queued behind the worker's SageMaker call budget, which with a
         * thousand pipelines on one worker can be minutes; such an attempt heartbeats while queued, so a
         * dead worker is still noticed within heartbeatTimeoutSeconds.
         */
        callTimeoutSeconds: z.number().int().min(5).max(3600).default(900),
      })
      .prefault({}),
  })
  .superRefine((c, ctx) => {
    const classification = c.predictorType !== 'regressor';
    const errorMetric = c.evaluation.metric === 'rmse' || c.evaluation.metric === 'mae' || c.evaluation.metric === 'log_loss';
    if (!classification && !errorMetric) {
      ctx.addIssue({ code: 'custom', path: ['evaluation', 'metric'], message: `"${c.evaluation.metric}" is a classification metric; a regressor is gated on rmse or mae` });
    }
    if (classification && (c.evaluation.metric === 'rmse' || c.evaluation.metric === 'mae')) {
      ctx.addIssue({ code: 'custom', path: ['evaluation', 'metric'], message: `"${c.evaluation.metric}" is a regression metric; a classifier is gated on accuracy, f1, auc or log_loss` });
    }
    if (c.predictorType === 'multiclass_classifier' && !c.dataset.schema.label.classes) {
      ctx.addIssue({ code: 'custom', path: ['dataset', 'schema', 'label', 'classes'], message: 'a multiclass_classifier needs the number of classes' });
    }
    if (c.training.managedSpot && c.training.managedSpot.maxWaitTimeInSeconds < c.training.maxRuntimeInSeconds) {
      ctx.addIssue({ code: 'custom', path: ['training', 'managedSpot', 'maxWaitTimeInSeconds'], message: `must be at least training.maxRuntimeInSeconds (${c.training.maxRuntimeInSeconds}), as SageMaker requires` });
    }
    for (const issue of deploymentIssues(c.endpoint.deployment, c.endpoint.initialInstanceCount)) {
      ctx.addIssue({ code: 'custom', path: ['endpoint', 'deployment', ...issue.path], message: issue.message });
    }
    checkInputAgainstSchema(c.dataset, ctx);
    const channels = c.dataset.channels;
    if (channels.inputMode !== 'Pipe') {
      const pipeOnly = (field: string, what: string) =>
        ctx.addIssue({ code: 'custom', path: ['dataset', 'channels', field], message: `${what} needs inputMode Pipe (SageMaker allows it in Pipe mode only)` });
      if (channels.format === 'augmented-manifest') pipeOnly('format', 'an augmented manifest');
      if (channels.compression !== 'None') pipeOnly('compression', `CompressionType ${channels.compression}`);
      if (channels.recordWrapper !== 'None') pipeOnly('recordWrapper', `RecordWrapperType ${channels.recordWrapper}`);
    }
    if (channels.format === 'augmented-manifest' && channels.compression !== 'None') {
      ctx.addIssue({ code: 'custom', path: ['dataset', 'channels', 'compression'], message: 'an augmented manifest is read as it is; compression applies to CSV objects' });
    }
    if (c.dataset.dedupKey === 'record-key' && (c.dataset.input.format === 'csv' || !c.dataset.input.fields.key)) {
      ctx.addIssue({ code: 'custom', path: ['dataset', 'dedupKey'], message: 'record-key needs a JSON input format with dataset.input.fields.key' });
    }
    if (c.dataset.validationShare + c.dataset.holdoutShare >= 1) {
      ctx.addIssue({ code: 'custom', path: ['dataset', 'holdoutShare'], message: 'validationShare + holdoutShare must leave rows for training (sum < 1)' });
    }
    checkEvaluationAndGate(c, ctx);
  });

export type PipelineConfigInput = z.input<typeof PipelineConfigSchema>;
export type PipelineConfig = z.output<typeof PipelineConfigSchema>;

/** Thrown for a config that must never start a job. The message lists every bad field by path. */
export class InvalidConfigError extends Error {
  override readonly name = 'InvalidConfigError';
  constructor(
    readonly issues: { path: string; message: string }[],
    where = 'pipeline config',
  ) {
    super(`invalid ${where}:\n${issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n')}`);
  }
}

export function formatPath(path: PropertyKey[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), '');
}

export function parsePipelineConfig(input: unknown, where?: string): PipelineConfig {
  const result = PipelineConfigSchema.safeParse(input);
  if (!result.success) {
    throw new InvalidConfigError(
      result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })),
      where,
    );
  }
  return result.data;
}

/** Slices and gate settings against the dataset schema and the predictor type. */
function checkEvaluationAndGate(
  c: { predictorType: PredictorType; dataset: { schema: DatasetSchema }; evaluation: { slices: z.output<typeof EvaluationSliceSchema>[] }; gate: GateSettings },
  ctx: z.RefinementCtx,
): void {
  const features = c.dataset.schema.features;
  const seen = new Set<string>();
  c.evaluation.slices.forEach((slice, i) => {
    const issue = (message: string, field: string = 'feature') => ctx.addIssue({ code: 'custom', path: ['evaluation', 'slices', i, field], message });
    const column = features.findIndex((f) => f.name === slice.feature);
    if (column < 0) return issue(`"${slice.feature}" is not a feature of dataset.schema (its features: ${features.map((f) => f.name).join(', ')})`);
    if (seen.has(slice.feature)) issue(`"${slice.feature}" is sliced twice`);
    seen.add(slice.feature);
    const type = features[column].type;
    if (type === 'categorical' && slice.edges) issue(`"${slice.feature}" is categorical: it gets one slice per value, so edges do not apply`, 'edges');
    if (type === 'numerical' && !slice.edges) issue(`"${slice.feature}" is numerical: give bucket edges, e.g. { feature: '${slice.feature}', edges: [0, 10, 100] }`, 'edges');
    const edges = slice.edges ?? [];
    for (let e = 1; e < edges.length; e++) {
      if (!(edges[e] > edges[e - 1])) ctx.addIssue({ code: 'custom', path: ['evaluation', 'slices', i, 'edges', e], message: `must be larger than the edge before it (${edges[e - 1]}); edges are strictly increasing` });
    }
    const argument = sliceArgument({ feature: slice.feature, column, ...(slice.edges ? { edges: slice.edges } : {}) });
    if (argument.length > MAX_CONTAINER_ARGUMENT_LENGTH) {
      issue(`reaches the evaluation job as a ${argument.length}-character container argument; SageMaker allows ${MAX_CONTAINER_ARGUMENT_LENGTH} (shorten the feature name or use fewer edges)`);
    }
  });
  const kind = c.predictorType === 'regressor' ? 'regression' : 'classification';
  const fits: readonly string[] = SUMMARY_METRICS[kind];
  for (const metric of Object.keys(c.gate.thresholds)) {
    if (!fits.includes(metric)) {
      ctx.addIssue({ code: 'custom', path: ['gate', 'thresholds', metric], message: `a ${c.predictorType}'s evaluation has no ${metric}; its metrics are ${fits.join(', ')}` });
    }
  }
  if (c.gate.significance?.test === 'mcnemar' && c.predictorType === 'regressor') {
    ctx.addIssue({ code: 'custom', path: ['gate', 'significance', 'test'], message: "McNemar's test compares classifiers' right and wrong answers; gate a regressor with paired-bootstrap" });
  }
}

/** The paired bootstrap's confidence level: what the gate's significance alpha asks for, 95% without one. */
export function bootstrapConfidence(gate: GateSettings): number {
  return 1 - (gate.significance?.alpha ?? 0.05);
}

export function isErrorMetric(metric: MetricName): boolean {
  return metric === 'rmse' || metric === 'mae' || metric === 'log_loss';
}
