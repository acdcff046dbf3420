// SageMaker's EventBridge events, as AWS sends them, and where each one goes. Pure: the HTTP receiver
// and the Lambda handler both call this, and it is unit-tested without a network.
import { z } from 'zod';
import { formatPath } from './config';

/** The tags every training job of the pipeline carries, which route its events back to the run. */
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
  source: z.string(),
  account: z.string(),
  time: z.string(),
  region: z.string(),
  resources: z.array(z.string()).default([]),
  detail: z.record(z.string(), z.unknown()),
});

/** The part of "SageMaker Training Job State Change" the pipeline reads; the rest passes through untouched. */
const trainingJobDetail = z.looseObject({
  TrainingJobName: z.string().min(1),
  TrainingJobStatus: z.enum(['InProgress', 'Completed', 'Failed', 'Stopping', 'Stopped']),
  SecondaryStatus: z.string().optional(),
  FailureReason: z.string().optional(),
  Tags: z.record(z.string(), z.string()).default({}),
});

/** What the waiting run is told: small, so it sits in history cheaply. */
export interface TrainingJobStateChange {
  eventId: string;
  time: string;
  jobName: string;
  status: 'InProgress' | 'Completed' | 'Failed' | 'Stopping' | 'Stopped';
  secondaryStatus?: string;
}

export type EventRoute =
  | { kind: 'signal'; workflowId: string; runId?: string; change: TrainingJobStateChange }
  | { kind: 'ignored'; reason: string };

export class InvalidEventError extends Error {
  override readonly name = 'InvalidEventError';
}

export function isTerminalStatus(status: TrainingJobStateChange['status']): boolean {
  return status === 'Completed' || status === 'Failed' || status === 'Stopped';
}

/** Validates an event and decides where it goes. Throws InvalidEventError naming the bad field. */
export function routeSageMakerEvent(body: unknown): EventRoute {
  const parsed = envelope.safeParse(body);
  if (!parsed.success) throw new InvalidEventError(`not an EventBridge event: ${describeIssues(parsed.error)}`);
  const event = parsed.data;
  if (event.source !== 'aws.sagemaker') return { kind: 'ignored', reason: `source ${event.source} is not aws.sagemaker` };
  if (event['detail-type'] !== 'SageMaker Training Job State Change') return { kind: 'ignored', reason: `"${event['detail-type']}" events are not handled here` };
  const detail = trainingJobDetail.safeParse(event.detail);
  if (!detail.success) throw new InvalidEventError(`invalid SageMaker Training Job State Change: ${describeIssues(detail.error, 'detail')}`);
  // Runs follow progress by polling; an event matters when it says the job has ended. Passing only
  // those keeps each run's history a few events long, however many status changes a job goes through.
  if (!isTerminalStatus(detail.data.TrainingJobStatus)) {
    return { kind: 'ignored', reason: `training job ${detail.data.TrainingJobName} is ${detail.data.TrainingJobStatus}, not ended` };
  }
  const tags = detail.data.Tags;
  const workflowId = tags[RUN_TAGS.workflowId];
  if (!workflowId) return { kind: 'ignored', reason: `training job ${detail.data.TrainingJobName} was not started by a retraining pipeline (no ${RUN_TAGS.workflowId} tag)` };
  return {
    kind: 'signal',
    workflowId,
    ...(tags[RUN_TAGS.runId] ? { runId: tags[RUN_TAGS.runId] } : {}),
    change: {
      eventId: event.id,
      time: event.time,
      jobName: detail.data.TrainingJobName,
      status: detail.data.TrainingJobStatus,
      ...(detail.data.SecondaryStatus ? { secondaryStatus: detail.data.SecondaryStatus } : {}),
    },
  };
}

function describeIssues(error: z.ZodError, prefix?: string): string {
  return error.issues.map((i) => `${[prefix, formatPath(i.path)].filter(Boolean).join('.') || '(root)'}: ${i.message}`).join('; ');
}
