// Waiting on a SageMaker job or endpoint from inside one activity: poll, heartbeat each poll (no
// history events per poll), and on cancellation stop what we started before reporting back.
import { CancelledFailure, Context } from '@temporalio/activity';

/**
 * How a waiting activity polls: the first poll comes quickly (short jobs finish fast), each later one
 * waits `factor` times longer, up to `maxMs`. Between polls it still heartbeats, so the activity's
 * heartbeat timeout (and with it cancellation and dead-worker detection) stays short whatever the cap.
 */
export interface JobPolling {
  firstMs: number;
  maxMs: number;
  factor: number;
}

/**
 * SageMaker's state-change events are the fast path (see receiver/); polling is the safety net, so it
 * backs off to ten minutes: about 8 DescribeTrainingJob calls per job-hour on a long job. Without
 * events, lower the cap: completion is noticed within it.
 */
export const DEFAULT_JOB_POLLING: JobPolling = { firstMs: 1000, maxMs: 600_000, factor: 2 };

/** Heartbeats go out at least this often while waiting between polls, and three times per heartbeat timeout. */
const HEARTBEAT_EVERY_MS = 15_000;

export interface WaitOptions<T> {
  describe: () => Promise<T>;
  isFinished: (state: T) => boolean;
  /** Heartbeat details: what the UI and a retried attempt see. */
  progress: (state: T) => Record<string, unknown>;
  /** Stops the job when the run is cancelled; then we wait for it to finish stopping. */
  stop?: () => Promise<void>;
  polling: JobPolling;
}

export async function waitForSageMaker<T>(opts: WaitOptions<T>): Promise<T> {
  const context = Context.current();
  const heartbeatEvery = Math.min(HEARTBEAT_EVERY_MS, (context.info.heartbeatTimeoutMs ?? 60_000) / 3);
  let interval = opts.polling.firstMs;
  for (let polls = 1; ; polls++) {
    const state = await opts.describe();
    const details = { ...opts.progress(state), polls };
    context.heartbeat(details);
    if (opts.isFinished(state)) return state;
    try {
      for (let waited = 0; waited < interval; waited += heartbeatEvery) {
        await context.sleep(Math.min(heartbeatEvery, interval - waited));
        context.heartbeat(details);
      }
    } catch (err) {
      if (!(err instanceof CancelledFailure) || !opts.stop) throw err;
      // Only the run asking (a cancelled workflow, or a confirmed end) stops the job. A worker shutting
      // down (a deploy, SIGTERM), a heartbeat timeout or a reset leave it running for the next attempt
      // to re-attach to: stopping there would throw away hours of training.
      if (!context.cancellationDetails?.cancelRequested) throw err;
      // The job may have ended meanwhile (the workflow may cancel this wait because an event said so).
      if (opts.isFinished(await opts.describe())) throw err;
      context.log.info('run cancelled: stopping the SageMaker job it started');
      await opts.stop();
      // Stopping takes seconds (SIGTERM, then artifacts are saved): poll briskly, whatever the backoff.
      for (;;) {
        const stopping = await opts.describe();
        if (opts.isFinished(stopping)) break;
        await new Promise((resolve) => setTimeout(resolve, Math.min(opts.polling.firstMs, 1000)));
      }
      throw err;
    }
    interval = Math.min(opts.polling.maxMs, interval * opts.polling.factor);
  }
}

/**
 * Creates a job unless it exists: true when it already did (a retried activity or a restarted worker
 * that created it earlier), so the caller attaches to it instead of starting another.
 */
export async function createOnce(job: { describe: () => Promise<unknown>; create: () => Promise<unknown> }): Promise<boolean> {
  try {
    await job.describe();
    return true;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  try {
    await job.create();
    return false;
  } catch (err) {
    // Another attempt of this activity created it between our Describe and Create.
    if (isAlreadyExists(err)) return true;
    throw err;
  }
}

/** Stops a job; one that has already ended (or is stopping) has nothing left to stop. */
export async function stopUnlessEnded(stop: () => Promise<unknown>): Promise<void> {
  try {
    await stop();
  } catch (err) {
    if ((err as { name?: string }).name !== 'ValidationException') throw err;
  }
}

/** SageMaker answers a missing resource with ResourceNotFound on some operations and ValidationException on others. */
export function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; message?: string };
  if (e?.name === 'ResourceNotFound') return true;
  return e?.name === 'ValidationException' && /not found|could not find|does not exist/i.test(e.message ?? '');
}

export function isAlreadyExists(err: unknown): boolean {
  const e = err as { name?: string; message?: string };
  if (e?.name === 'ResourceInUse') return true;
  return e?.name === 'ValidationException' && /already exist/i.test(e.message ?? '');
}

export function seconds(from: Date | undefined, to: Date | undefined): number {
  if (!from || !to) return 0;
  return Math.max(0, (to.getTime() - from.getTime()) / 1000);
}

/** The workflow run this activity works for: names and lineage derive from it. */
export function currentRun(): { workflowId: string; runId: string } {
  const execution = Context.current().info.workflowExecution;
  if (!execution) throw new Error('retraining activities run only on behalf of a workflow');
  return { workflowId: execution.workflowId, runId: execution.runId };
}
