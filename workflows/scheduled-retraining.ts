// A schedule's tick. Temporal names each workflow a schedule starts `<action's id>-<nominal time>`, so a
// schedule starting retrainingPipeline directly would not use the per-model id `retrain-<model>`, and a
// scheduled run could overlap a manual or alert-started one. The tick therefore starts the pipeline as
// a child under that id, with the start options every starter shares, and waits for it: the schedule's
// overlap policy sees the run as its own action, and a run already active (whoever started it) makes
// the tick end as `skipped`, saying which run it found.
import { CancelledFailure, ChildWorkflowFailure, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { log, ParentClosePolicy, startChild, workflowInfo } from '@temporalio/workflow';
import { retrainingStartOptions } from '../client/runs';
import type { PipelineConfigInput } from '../domain/config';
import { retrainingPipeline, type Decision } from './retraining';

export interface ScheduledRetrainingInput {
  config: PipelineConfigInput & { model: string; endpoint: { name: string } };
  /** The schedule that ticked, recorded as the run's reason. */
  scheduleId: string;
  /** The schedule's times in one line, for the run's details. */
  description: string;
  /** Its cron expressions as written (the server keeps them only compiled). */
  cron?: string[];
  /** Retrain even without drift. */
  force?: boolean;
}

export type ScheduledRetrainingOutcome =
  | { status: 'ran'; model: string; workflowId: string; runId: string; decision: Decision; reason: string }
  | { status: 'skipped'; model: string; workflowId: string; reason: string }
  | { status: 'cancelled'; model: string; workflowId: string; runId: string; reason: string };

export async function scheduledRetraining(input: ScheduledRetrainingInput): Promise<ScheduledRetrainingOutcome> {
  const model = input.config.model;
  const tick = workflowInfo().workflowId;
  const options = retrainingStartOptions(
    input.config,
    { trigger: 'schedule', reason: input.scheduleId, details: [`**Schedule** ${input.description}`, `**Tick** ${tick}`] },
    { force: input.force },
  );
  let run;
  try {
    // A tick that is cancelled or terminated (cancel-other, an operator) asks the run to cancel, which stops its SageMaker jobs.
    run = await startChild(retrainingPipeline, { ...options, parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const reason = `a run of ${model} is already active (${options.workflowId}), so this tick starts none: one retraining of a model at a time`;
    log.info('schedule tick skipped', { model, tick, workflowId: options.workflowId });
    return { status: 'skipped', model, workflowId: options.workflowId, reason };
  }
  // Waiting for the run keeps the tick open while it lasts, so the overlap policy applies to it; a failed
  // run fails the tick (and pauses the schedule with pauseOnFailure). A run an operator cancelled is not
  // a failure of the schedule: the tick ends saying so.
  let outcome;
  try {
    outcome = await run.result();
  } catch (err) {
    if (err instanceof ChildWorkflowFailure && err.cause instanceof CancelledFailure) {
      return { status: 'cancelled', model, workflowId: run.workflowId, runId: run.firstExecutionRunId, reason: `the run was cancelled: ${err.cause.message}` };
    }
    throw err;
  }
  return { status: 'ran', model, workflowId: run.workflowId, runId: run.firstExecutionRunId, decision: outcome.decision, reason: outcome.reason };
}
