// The pipeline config: one zod schema, validated at the edge (CLI, worker start, workflow input).
// Types flow from here; nothing else re-declares them.
import { z } from 'zod';
import { LabelledDataInputSchema, checkInputAgainstSchema } from './labelled-data/options';

/** SageMaker's pattern for job, model, endpoint and package-group names. */
export const SAGEMAKER_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
const sageMakerName = z.string().regex(SAGEMAKER_NAME, 'must match ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62} (1-63 letters, digits, hyphens)');

export const S3_URI = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(\/.*)?$/;
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
    }),
    gate: z
      .object({
        /** The candidate must beat the champion by at least this much (absolute, in metric units). */
        minImprovement: z.number().min(0).default(0),
        /** Optional absolute floor (or ceiling for error metrics) the candidate must reach. */
        threshold: z.number().optional(),
      })
      .prefault({}),
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

export function isErrorMetric(metric: MetricName): boolean {
  return metric === 'rmse' || metric === 'mae' || metric === 'log_loss';
}
