// SageMaker's EventBridge events, as AWS sends them, and where each one goes. Pure: the HTTP receiver
// and the Lambda handler both call this, and it is unit-tested without a network.
import { z } from 'zod';
import { formatPath } from './config';
import { isPipelineJobName } from './job-names';

/** The tags every SageMaker job of the pipeline carries, which route its events back to the run. */
export const RUN_TAGS = { model: 'retraining:model', workflowId: 'retraining:workflow-id', runId: 'retraining:run-id' } as const;

/**
 * The tags that route a job's state-change events back to its run, plus the dataset version for
 * lineage. A workflow id is cut to SageMaker's 256-character tag value.
 */
export function runTags(run: { model: string; workflowId: string; runId: string; datasetVersion: string }): { Key: string; Value: string }[] {
  return [
    { Key: RUN_TAGS.model, Value: run.model },
    { Key: RUN_TAGS.workflowId, Value: run.workflowId.slice(0, 256) },
    { Key: RUN_TAGS.runId, Value: run.runId },
    { Key: 'retraining:dataset-version', Value: run.datasetVersion },
  ];
}

const envelope = z.object({
  version: z.string(),
  id: z.string().min(1),
  'detail-type': z.string(),
  // AWS's published model package example repeats "source", the second time as ["aws.sagemaker"].
  source: z.union([z.string(), z.tuple([z.string()]).transform(([only]) => only)]),
  account: z.string(),
  time: z.string(),
  region: z.string(),
  resources: z.array(z.string()).default([]),
  detail: z.record(z.string(), z.unknown()),
});

const jobStatus = z.enum(['InProgress', 'Completed', 'Failed', 'Stopping', 'Stopped']);
export type JobStatus = z.infer<typeof jobStatus>;

/** The kinds of SageMaker job whose events the pipeline follows, and the fields it reads of each. */
const JOB_EVENTS = {
  training: {
    detailType: 'SageMaker Training Job State Change',
    nameField: 'TrainingJobName',
    statusField: 'TrainingJobStatus',
    arnField: 'TrainingJobArn',
    detail: z.looseObject({
      TrainingJobName: z.string().min(1),
      TrainingJobArn: z.string().optional(),
      TrainingJobStatus: jobStatus,
      SecondaryStatus: z.string().optional(),
      // AWS's example always has Tags (a map, `{}` when empty).
      Tags: z.record(z.string(), z.string()).optional(),
    }),
  },
  processing: {
    detailType: 'SageMaker Processing Job State Change',
    nameField: 'ProcessingJobName',
    statusField: 'ProcessingJobStatus',
    arnField: 'ProcessingJobArn',
    detail: z.looseObject({
      ProcessingJobName: z.string().min(1),
      ProcessingJobArn: z.string().optional(),
      ProcessingJobStatus: jobStatus,
      // AWS's example ("Events that Amazon SageMaker AI sends to Amazon EventBridge") is
      // DescribeProcessingJob-shaped and has no Tags, unlike the training one; should Tags arrive, they are used.
      // Without them the job's tags are looked up (ListTags), so routing does not hinge on which is true.
      Tags: z.record(z.string(), z.string()).optional(),
    }),
  },
} as const;

export type JobType = keyof typeof JOB_EVENTS;

/** What the waiting run is told: small, so it sits in history cheaply. */
export interface JobStateChange {
  eventId: string;
  time: string;
  jobName: string;
  status: JobStatus;
  secondaryStatus?: string;
}
export type TrainingJobStateChange = JobStateChange;
export type ProcessingJobStateChange = JobStateChange;

/** The model package statuses a waiting approval acts on; PendingManualApproval is the wait itself. */
const approvalStatus = z.enum(['Approved', 'Rejected', 'PendingManualApproval']);
export type ModelApprovalStatus = z.infer<typeof approvalStatus>;

/** What a run awaiting approval is told of a status change made in SageMaker Model Registry. */
export interface ModelPackageStateChange {
  eventId: string;
  time: string;
  modelPackageArn: string;
  approvalStatus: 'Approved' | 'Rejected';
}

export const MODEL_PACKAGE_EVENT = 'SageMaker Model Package State Change';

/**
 * The detail is DescribeModelPackage's output (AWS's example). CustomerMetadataProperties, where the
 * pipeline records the run that registered the package, is part of that output but absent from the
 * example (its package had none); without it the receiver reads the package (DescribeModelPackage).
 */
const modelPackageDetail = z.looseObject({
  ModelPackageArn: z.string().regex(/^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package\/\S+$/, 'must be a model package ARN'),
  ModelPackageGroupName: z.string().optional(),
  ModelPackageVersion: z.number().int().optional(),
  ModelApprovalStatus: approvalStatus,
  CustomerMetadataProperties: z.record(z.string(), z.string()).optional(),
});

/** CustomerMetadataProperties keys naming the run that registered a package (activities/champion.ts LINEAGE). */
export const PACKAGE_RUN_KEYS = { workflowId: 'WorkflowId', runId: 'RunId' } as const;

export type EventRoute =
  | { kind: 'signal'; job: JobType; workflowId: string; runId?: string; change: JobStateChange }
  | { kind: 'signal-package'; workflowId: string; runId?: string; change: ModelPackageStateChange }
  /** The event does not say which run registered the package: read it (DescribeModelPackage) and route again. */
  | { kind: 'lookup-package'; modelPackageArn: string }
  /** The event does not carry the job's tags: look them up (ListTags on `resourceArn`) and route again with them. */
  | { kind: 'lookup-tags'; job: JobType; jobName: string; resourceArn: string }
  | { kind: 'ignored'; reason: string };

export class InvalidEventError extends Error {
  override readonly name = 'InvalidEventError';
}

export function isTerminalStatus(status: JobStatus): boolean {
  return status === 'Completed' || status === 'Failed' || status === 'Stopped';
}

/**
 * Validates an event and decides where it goes. Throws InvalidEventError naming the bad field.
 * `lookedUpTags` are the job's tags as ListTags returned them, for an event that answered `lookup-tags`,
 * or a model package's CustomerMetadataProperties, for one that answered `lookup-package`.
 */
export function routeSageMakerEvent(body: unknown, lookedUpTags?: Record<string, string>): EventRoute {
  const parsed = envelope.safeParse(body);
  if (!parsed.success) throw new InvalidEventError(`not an EventBridge event: ${describeIssues(parsed.error)}`);
  const event = parsed.data;
  if (event.source !== 'aws.sagemaker') return { kind: 'ignored', reason: `source ${event.source} is not aws.sagemaker` };
  if (event['detail-type'] === MODEL_PACKAGE_EVENT) return routeModelPackageEvent(event, lookedUpTags);
  const job = (Object.keys(JOB_EVENTS) as JobType[]).find((type) => JOB_EVENTS[type].detailType === event['detail-type']);
  if (!job) return { kind: 'ignored', reason: `"${event['detail-type']}" events are not handled here` };
  const spec = JOB_EVENTS[job];
  const detail = spec.detail.safeParse(event.detail);
  if (!detail.success) throw new InvalidEventError(`invalid ${spec.detailType}: ${describeIssues(detail.error, 'detail')}`);
  const fields = detail.data as Record<string, unknown> & { Tags?: Record<string, string>; SecondaryStatus?: string };
  const jobName = fields[spec.nameField] as string;
  const status = fields[spec.statusField] as JobStatus;
  // Runs follow progress by polling; an event matters when it says the job has ended. Passing only
  // those keeps each run's history a few events long, however many status changes a job goes through.
  if (!isTerminalStatus(status)) return { kind: 'ignored', reason: `${job} job ${jobName} is ${status}, not ended` };

  const tags = fields.Tags ?? lookedUpTags;
  if (!tags) {
    // Only a name the pipeline could have derived is worth a SageMaker call.
    if (!isPipelineJobName(jobName)) return { kind: 'ignored', reason: notOurs(job, jobName, 'its name is not one the pipeline derives') };
    const resourceArn = (fields[spec.arnField] as string | undefined) ?? event.resources[0];
    if (!resourceArn) throw new InvalidEventError(`invalid ${spec.detailType}: detail.${spec.arnField}: neither it nor resources names the job, so its tags cannot be looked up`);
    return { kind: 'lookup-tags', job, jobName, resourceArn };
  }
  const workflowId = tags[RUN_TAGS.workflowId];
  if (!workflowId) return { kind: 'ignored', reason: notOurs(job, jobName, `no ${RUN_TAGS.workflowId} tag`) };
  return {
    kind: 'signal',
    job,
    workflowId,
    ...(tags[RUN_TAGS.runId] ? { runId: tags[RUN_TAGS.runId] } : {}),
    change: {
      eventId: event.id,
      time: event.time,
      jobName,
      status,
      ...(fields.SecondaryStatus ? { secondaryStatus: fields.SecondaryStatus } : {}),
    },
  };
}

/**
 * A model package's status change: it matters to a run awaiting approval of that package once it is
 * Approved or Rejected. `lookedUpMetadata` is the package's CustomerMetadataProperties, as read after a
 * `lookup-package` answer.
 */
function routeModelPackageEvent(event: z.output<typeof envelope>, lookedUpMetadata?: Record<string, string>): EventRoute {
  const detail = modelPackageDetail.safeParse(event.detail);
  if (!detail.success) throw new InvalidEventError(`invalid ${MODEL_PACKAGE_EVENT}: ${describeIssues(detail.error, 'detail')}`);
  const { ModelPackageArn: arn, ModelApprovalStatus: status } = detail.data;
  if (status === 'PendingManualApproval') return { kind: 'ignored', reason: `model package ${arn} is PendingManualApproval, not decided` };
  const metadata = detail.data.CustomerMetadataProperties ?? lookedUpMetadata;
  if (!metadata) return { kind: 'lookup-package', modelPackageArn: arn };
  const workflowId = metadata[PACKAGE_RUN_KEYS.workflowId];
  if (!workflowId) return { kind: 'ignored', reason: `model package ${arn} was not registered by a retraining pipeline (no ${PACKAGE_RUN_KEYS.workflowId} in its CustomerMetadataProperties)` };
  return {
    kind: 'signal-package',
    workflowId,
    ...(metadata[PACKAGE_RUN_KEYS.runId] ? { runId: metadata[PACKAGE_RUN_KEYS.runId] } : {}),
    change: { eventId: event.id, time: event.time, modelPackageArn: arn, approvalStatus: status },
  };
}

function notOurs(job: JobType, jobName: string, why: string): string {
  return `${job} job ${jobName} was not started by a retraining pipeline (${why})`;
}

function describeIssues(error: z.ZodError, prefix?: string): string {
  return error.issues.map((i) => `${[prefix, formatPath(i.path)].filter(Boolean).join('.') || '(root)'}: ${i.message}`).join('; ');
}
