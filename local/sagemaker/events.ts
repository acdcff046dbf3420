// SageMaker + EventBridge + API destination, locally: the state-change events SageMaker sends to
// EventBridge, POSTed as the request body to HTTP targets, the way an API destination delivers them.
//
// Shapes follow the examples on "Events that Amazon SageMaker AI sends to Amazon EventBridge"
// (automating-sagemaker-with-eventbridge). The examples disagree with each other on encodings,
// and each event type keeps its own example's: see docs/local-sagemaker.md#eventbridge-events.
// These types are for tests of the local server; the product defines its own schemas from the docs.
import { randomUUID } from 'node:crypto';
import type {
  DescribeModelPackageOutput,
  DescribeProcessingJobResponse,
  DescribeTrainingJobResponse,
  ExperimentConfig,
  ProcessingInput,
  ProcessingOutput,
  Tag,
  VpcConfig,
} from '@aws-sdk/client-sagemaker';

/** The EventBridge envelope. `time` is ISO 8601 in whole seconds, as in every example. */
export interface SageMakerEvent<TDetailType extends string, TDetail> {
  version: '0';
  id: string;
  'detail-type': TDetailType;
  source: 'aws.sagemaker';
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: TDetail;
}

/** Dates become what the event's example shows: epoch milliseconds as a string, or as a number. */
type Encoded<T, TTime> = T extends Date
  ? TTime
  : T extends (infer U)[]
    ? Encoded<U, TTime>[]
    : T extends object
      ? { [K in keyof T]: Encoded<T[K], TTime> }
      : T;

export const TRAINING_JOB_STATE_CHANGE = 'SageMaker Training Job State Change';
export const PROCESSING_JOB_STATE_CHANGE = 'SageMaker Processing Job State Change';
export const MODEL_PACKAGE_STATE_CHANGE = 'SageMaker Model Package State Change';

/**
 * DescribeTrainingJob's output, with timestamps as epoch-millisecond strings ("1583831889050", as the
 * example has them) and Tags as a `{key: value}` map. The example always has HyperParameters,
 * VpcConfig, SecondaryStatusTransitions and Tags, so they are `{}`/`[]` when empty.
 */
export type TrainingJobStateChangeDetail = Omit<Encoded<DescribeTrainingJobResponse, string>, 'VpcConfig'> & {
  VpcConfig: Partial<Encoded<VpcConfig, string>>;
  Tags: Record<string, string>;
};
export type TrainingJobStateChange = SageMakerEvent<typeof TRAINING_JOB_STATE_CHANGE, TrainingJobStateChangeDetail>;

/**
 * DescribeProcessingJob's output, with timestamps as epoch-millisecond numbers (1704320746000, as
 * that example has them) and the S3 enums spelled as the example spells them (MANIFEST_FILE, PIPE,
 * FULLYREPLICATED, CONTINUOUS). No Tags: the example on the page named at the top of this file (a Failed job) has none, and
 * DescribeProcessingJob returns none, while the training and transform examples each carry a Tags
 * map. So this relies on the documented example, not on observed events; consumers read a processing
 * job's tags with ListTags.
 */
export type ProcessingJobStateChangeDetail = Omit<
  Encoded<DescribeProcessingJobResponse, number>,
  'ProcessingInputs' | 'ProcessingOutputConfig' | 'ExperimentConfig'
> & {
  ExperimentConfig: Partial<ExperimentConfig>;
  ProcessingInputs?: EventProcessingInput[];
  ProcessingOutputConfig?: { Outputs?: EventProcessingOutput[]; KmsKeyId?: string };
};
export type ProcessingJobStateChange = SageMakerEvent<typeof PROCESSING_JOB_STATE_CHANGE, ProcessingJobStateChangeDetail>;

type EventProcessingInput = Omit<ProcessingInput, 'S3Input'> & { S3Input?: Record<string, unknown> };
type EventProcessingOutput = Omit<ProcessingOutput, 'S3Output'> & { S3Output?: Record<string, unknown> };

/**
 * DescribeModelPackage's output with timestamps as ISO 8601 strings in whole seconds, as the model
 * package example has them ("2021-02-24T17:00:14Z"). The example's package has no
 * CustomerMetadataProperties; being part of Describe's output, they are sent when the package has them.
 */
export type ModelPackageStateChangeDetail = Encoded<DescribeModelPackageOutput, string>;
export type ModelPackageStateChange = SageMakerEvent<typeof MODEL_PACKAGE_STATE_CHANGE, ModelPackageStateChangeDetail>;

export type LocalSageMakerEvent = TrainingJobStateChange | ProcessingJobStateChange | ModelPackageStateChange;

function encodeTimes<T, TTime>(value: T, encode: (date: Date) => TTime): Encoded<T, TTime> {
  if (value instanceof Date) return encode(value) as Encoded<T, TTime>;
  if (Array.isArray(value)) return value.map((v: unknown) => encodeTimes(v, encode)) as Encoded<T, TTime>;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encodeTimes(v, encode)])) as Encoded<T, TTime>;
  }
  return value as Encoded<T, TTime>;
}

function tagMap(tags: Tag[] | undefined): Record<string, string> {
  return Object.fromEntries((tags ?? []).map((t) => [t.Key!, t.Value ?? '']));
}

/** `value` with the `first` keys in that order, then its other keys as they come. */
function inOrder<T extends object>(first: readonly (keyof T)[], value: T): T {
  const out = {} as T;
  for (const key of first) if (key in value) out[key] = value[key];
  return Object.assign(out, value);
}

/** The training example's fields, in its order. */
const TRAINING_ORDER = [
  'TrainingJobName',
  'TrainingJobArn',
  'TrainingJobStatus',
  'SecondaryStatus',
  'FailureReason',
  'HyperParameters',
  'AlgorithmSpecification',
  'RoleArn',
  'InputDataConfig',
  'OutputDataConfig',
  'ResourceConfig',
  'VpcConfig',
  'StoppingCondition',
  'CreationTime',
  'TrainingStartTime',
  'TrainingEndTime',
  'LastModifiedTime',
  'SecondaryStatusTransitions',
] as const;

/** The detail of a training job event: the example's fields in its order, then the rest of Describe. */
export function trainingJobDetail(job: DescribeTrainingJobResponse, tags: Tag[] | undefined): TrainingJobStateChangeDetail {
  const detail = encodeTimes(job, (date) => String(date.getTime()));
  return inOrder<TrainingJobStateChangeDetail>(TRAINING_ORDER, {
    ...detail,
    HyperParameters: detail.HyperParameters ?? {},
    VpcConfig: detail.VpcConfig ?? {},
    SecondaryStatusTransitions: detail.SecondaryStatusTransitions ?? [],
    Tags: tagMap(tags),
  });
}

/** The processing example's spelling of the S3 enums. Values it does not show are spelled by analogy. */
const PROCESSING_ENUMS: Record<string, Record<string, string>> = {
  S3DataType: { ManifestFile: 'MANIFEST_FILE', S3Prefix: 'S3_PREFIX' },
  S3InputMode: { Pipe: 'PIPE', File: 'FILE' },
  S3DataDistributionType: { FullyReplicated: 'FULLYREPLICATED', ShardedByS3Key: 'SHARDEDBYS3KEY' },
  S3UploadMode: { Continuous: 'CONTINUOUS', EndOfJob: 'END_OF_JOB' },
};

function respellEnums(s3: object | undefined): Record<string, unknown> | undefined {
  if (!s3) return undefined;
  return Object.fromEntries(Object.entries(s3).map(([k, v]) => [k, typeof v === 'string' ? (PROCESSING_ENUMS[k]?.[v] ?? v) : v]));
}

/** The processing example's fields, in its order. */
const PROCESSING_ORDER = [
  'ProcessingInputs',
  'ProcessingOutputConfig',
  'ProcessingJobName',
  'ProcessingResources',
  'StoppingCondition',
  'AppSpecification',
  'NetworkConfig',
  'RoleArn',
  'ExperimentConfig',
  'ProcessingJobArn',
  'ProcessingJobStatus',
  'FailureReason',
  'ProcessingEndTime',
  'ProcessingStartTime',
  'LastModifiedTime',
  'CreationTime',
] as const;

/** The detail of a processing job event: the example's fields in its order, then the rest of Describe. */
export function processingJobDetail(job: DescribeProcessingJobResponse): ProcessingJobStateChangeDetail {
  const detail = encodeTimes(job, (date) => date.getTime());
  const outputs = detail.ProcessingOutputConfig;
  return inOrder<ProcessingJobStateChangeDetail>(PROCESSING_ORDER, {
    ...detail,
    ProcessingInputs: detail.ProcessingInputs?.map(({ S3Input, ...input }) => ({ ...input, S3Input: respellEnums(S3Input) })),
    ProcessingOutputConfig: outputs && {
      ...outputs,
      Outputs: outputs.Outputs?.map(({ S3Output, ...output }) => ({ ...output, S3Output: respellEnums(S3Output) })),
    },
    ExperimentConfig: detail.ExperimentConfig ?? {},
  });
}

/** The model package example's fields, in its order. */
const MODEL_PACKAGE_ORDER = [
  'ModelPackageGroupName',
  'ModelPackageVersion',
  'ModelPackageArn',
  'CreationTime',
  'InferenceSpecification',
  'ModelPackageStatus',
  'ModelPackageStatusDetails',
  'CertifyForMarketplace',
  'ModelApprovalStatus',
  'MetadataProperties',
  'ModelMetrics',
  'LastModifiedTime',
] as const;

/** The detail of a model package event: the example's fields in its order, then the rest of Describe. */
export function modelPackageDetail(pkg: DescribeModelPackageOutput): ModelPackageStateChangeDetail {
  const { CreatedBy: _createdBy, ...described } = pkg;
  const detail = encodeTimes(described, (date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z'));
  return inOrder<ModelPackageStateChangeDetail>(MODEL_PACKAGE_ORDER, detail);
}

export interface EventDeliveryOptions {
  /** HTTP(S) URLs; each event is POSTed to every one. */
  targets: string[];
  /** Sent with every POST, as an API destination's connection adds its auth header. */
  headers: Record<string, string>;
  /** Send every event twice, with different ids, as SageMaker may. */
  duplicate: boolean;
  region: string;
  accountId: string;
  /** Delivery attempts per event and target. */
  attempts?: number;
  /** The first retry's delay; each later one doubles, with jitter. */
  retryBaseMs?: number;
  /** Per-request timeout; an API destination allows 5 s. */
  requestTimeoutMs?: number;
  log?: (message: string) => void;
}

/** Statuses an API destination retries: 401, 407, 409, 429 and 5xx (and timeouts, network errors). */
function retryable(status: number): boolean {
  return status === 401 || status === 407 || status === 409 || status === 429 || status >= 500;
}

/**
 * EventBridge plus one API destination per target. Publishing never blocks or throws; events for
 * one resource reach each target in order, each retried with backoff before the next is sent.
 */
export class EventDelivery {
  /** The tail of each (resource, target) queue. */
  private readonly queues = new Map<string, Promise<void>>();
  private readonly pending = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private closed = false;

  constructor(private readonly opts: EventDeliveryOptions) {
    for (const target of opts.targets) {
      const url = URL.canParse(target) ? new URL(target) : undefined;
      if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new Error(`event targets must be http(s) URLs, got '${target}'`);
    }
  }

  get enabled(): boolean {
    return this.opts.targets.length > 0 && !this.closed;
  }

  /** Queues one state change (two events when duplicating) for every target. */
  publish<E extends LocalSageMakerEvent>(detailType: E['detail-type'], resourceArn: string, detail: E['detail']): void {
    if (!this.enabled) return;
    const time = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const copies = this.opts.duplicate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const event: SageMakerEvent<string, unknown> = {
        version: '0',
        id: randomUUID(),
        'detail-type': detailType,
        source: 'aws.sagemaker',
        account: this.opts.accountId,
        time,
        region: this.opts.region,
        resources: [resourceArn],
        detail,
      };
      const body = JSON.stringify(event);
      for (const target of this.opts.targets) this.enqueue(`${resourceArn} ${target}`, () => this.deliver(target, body, event.id));
    }
  }

  /** Waits up to `timeoutMs` for queued deliveries, then abandons the rest. Later publishes are dropped. */
  async flush(timeoutMs: number): Promise<void> {
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([Promise.allSettled([...this.pending]), timedOut]);
    clearTimeout(timer);
    if (this.pending.size) this.log(`abandoned ${this.pending.size} event deliveries still pending at close`);
    this.abort.abort();
    await Promise.allSettled([...this.pending]);
  }

  private enqueue(key: string, task: () => Promise<void>): void {
    const next = (this.queues.get(key) ?? Promise.resolve()).then(task).catch((err: unknown) => this.log(`event delivery failed: ${String(err)}`));
    this.queues.set(key, next);
    this.pending.add(next);
    void next.finally(() => {
      this.pending.delete(next);
      if (this.queues.get(key) === next) this.queues.delete(key);
    });
  }

  private async deliver(target: string, body: string, id: string): Promise<void> {
    const attempts = this.opts.attempts ?? 5;
    let last = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (this.abort.signal.aborted) return;
      try {
        const response = await fetch(target, {
          method: 'POST',
          headers: { ...this.opts.headers, 'Content-Type': 'application/json' },
          body,
          signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.opts.requestTimeoutMs ?? 5000)]),
        });
        await response.arrayBuffer().catch(() => undefined);
        if (response.ok) return;
        last = `HTTP ${response.status}`;
        if (!retryable(response.status)) break;
      } catch (err) {
        if (this.abort.signal.aborted) return;
        last = (err as Error).message;
      }
      if (attempt < attempts) await this.backoff(attempt);
    }
    this.log(`gave up delivering event ${id} to ${target}: ${last}`);
  }

  /** Exponential backoff with full jitter over the upper half, cut short by close. */
  private backoff(attempt: number): Promise<void> {
    const ceiling = (this.opts.retryBaseMs ?? 100) * 2 ** (attempt - 1);
    const ms = ceiling / 2 + Math.random() * (ceiling / 2);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.abort.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.abort.signal.addEventListener('abort', done);
    });
  }

  private log(message: string): void {
    (this.opts.log ?? ((m: string) => console.warn(`[local-sagemaker] ${m}`)))(message);
  }
}
