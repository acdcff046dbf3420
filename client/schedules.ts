// Scheduled retraining: one Temporal Schedule per model (`retrain-schedule-<model>`), whose every tick
// runs `scheduledRetraining` (workflows/scheduled-retraining.ts): it starts the pipeline under the
// per-model id `retrain-<model>` with the start options every starter shares, or ends `skipped` when a
// run of the model is already active. Schedules show, and can be paused or triggered, in the Web UI too.
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleDescription, type ScheduleSpec } from '@temporalio/client';
import { SAGEMAKER_NAME, type PipelineConfigInput } from '../domain/config';
import { formatDuration, retrainingScheduleId, type OverlapPolicy, type RetrainingSchedule } from '../domain/schedule-spec';
import { scheduledRetraining, type ScheduledRetrainingInput, type ScheduledRetrainingOutcome } from '../workflows';
import { RetrainingModel } from '../workflows/search-attributes';

const OVERLAP: Record<OverlapPolicy, ScheduleOverlapPolicy> = {
  skip: ScheduleOverlapPolicy.SKIP,
  'buffer-one': ScheduleOverlapPolicy.BUFFER_ONE,
  'buffer-all': ScheduleOverlapPolicy.BUFFER_ALL,
  'cancel-other': ScheduleOverlapPolicy.CANCEL_OTHER,
  'allow-all': ScheduleOverlapPolicy.ALLOW_ALL,
};
const OVERLAP_NAME = Object.fromEntries(Object.entries(OVERLAP).map(([name, policy]) => [policy, name])) as Record<string, OverlapPolicy>;
/** The server's policy by its CLI name; unspecified is Temporal's default, skip. */
function overlapName(policy: ScheduleOverlapPolicy): OverlapPolicy {
  return OVERLAP_NAME[policy ?? ScheduleOverlapPolicy.SKIP] ?? 'skip';
}

/** Thrown when the model has no schedule: the CLI reports it and exits 1. */
export class NoScheduleError extends Error {
  override readonly name = 'NoScheduleError';
  constructor(readonly model: string) {
    super(`model ${model} has no retraining schedule (${retrainingScheduleId(model)}); create one with \`retrain schedule create\``);
  }
}

/** The Temporal spec for what the operator asked for (already validated by parseRetrainingSchedule). */
function temporalSpec(schedule: RetrainingSchedule): ScheduleSpec {
  return {
    cronExpressions: schedule.calendars,
    intervals: schedule.intervals.map((i) => ({ every: i.everySeconds * 1000, offset: i.offsetSeconds * 1000 })),
    jitter: schedule.jitterSeconds * 1000,
    timezone: schedule.timezone,
  };
}

export interface CreateScheduleOptions {
  config: PipelineConfigInput & { model: string; endpoint: { name: string } };
  schedule: RetrainingSchedule;
  taskQueue: string;
  /** Update an existing schedule in place (its counters and recent ticks are kept) instead of refusing. */
  replace?: boolean;
}

export async function createRetrainingSchedule(client: Client, options: CreateScheduleOptions): Promise<RetrainingScheduleView> {
  const { config, schedule, taskQueue } = options;
  if (config.model !== schedule.model) throw new Error(`the schedule is for model ${schedule.model} but the config is for ${config.model}`);
  const input: ScheduledRetrainingInput = { config, scheduleId: schedule.scheduleId, description: schedule.description, cron: schedule.calendars, force: schedule.force };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: scheduledRetraining,
    // Temporal appends each tick's nominal time: retrain-schedule-<model>-2026-11-24T02:00:00Z.
    workflowId: schedule.scheduleId,
    taskQueue,
    args: [input] as [ScheduledRetrainingInput],
    staticSummary: `Scheduled retraining of ${schedule.model}`,
    staticDetails: `**Schedule** ${schedule.scheduleId}: ${schedule.description}\n\nStarts retrain-${schedule.model}, or is skipped while a run of the model is active.`,
  };
  const policies = {
    overlap: OVERLAP[schedule.overlap],
    pauseOnFailure: schedule.pauseOnFailure,
    ...(schedule.catchupWindowSeconds !== undefined ? { catchupWindow: schedule.catchupWindowSeconds * 1000 } : {}),
  };
  const state = { paused: schedule.paused, note: schedule.note };
  const handle = client.schedule.getHandle(schedule.scheduleId);
  if (options.replace && (await exists(client, schedule.model))) {
    await handle.update((previous) => ({ ...previous, spec: temporalSpec(schedule), action, policies: { ...previous.policies, ...policies }, state }));
  } else {
    try {
      await client.schedule.create({
        scheduleId: schedule.scheduleId,
        spec: temporalSpec(schedule),
        action,
        policies,
        state,
        memo: { model: schedule.model },
        typedSearchAttributes: [{ key: RetrainingModel, value: schedule.model }],
      });
    } catch (err) {
      if (err instanceof ScheduleAlreadyRunning) {
        throw new Error(`model ${schedule.model} already has a schedule (${schedule.scheduleId}): update it with --replace, or delete it first`);
      }
      throw err;
    }
  }
  return describeRetrainingSchedule(client, schedule.model);
}

async function exists(client: Client, model: string): Promise<boolean> {
  try {
    await client.schedule.getHandle(retrainingScheduleId(model)).describe();
    return true;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return false;
    throw err;
  }
}

/** The tick's input: the schedule's own words for its times (the server keeps cron expressions only compiled). */
function tickInput(description: ScheduleDescription): ScheduledRetrainingInput | undefined {
  return description.action.args?.[0] as ScheduledRetrainingInput | undefined;
}

async function describeSchedule(client: Client, model: string): Promise<ScheduleDescription> {
  try {
    return await client.schedule.getHandle(retrainingScheduleId(model)).describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new NoScheduleError(model);
    throw err;
  }
}

/** A tick the schedule took: when, the workflow it started, and what became of it. */
export interface ScheduleTick {
  scheduledAt: string;
  takenAt: string;
  workflowId: string;
  runId: string;
  /** RUNNING, COMPLETED, FAILED, ... */
  status: string;
  /** A finished tick's result: the run it started and its decision, or why it was skipped. */
  outcome: ScheduledRetrainingOutcome | null;
}

/** What `retrain schedule describe` shows: the spec, the policies, the state and what the ticks did. */
export interface RetrainingScheduleView {
  scheduleId: string;
  model: string;
  schedule: string;
  cron: string[];
  intervals: string[];
  jitter: string;
  timezone: string | null;
  overlap: OverlapPolicy;
  catchupWindow: string;
  pauseOnFailure: boolean;
  paused: boolean;
  note: string | null;
  nextRuns: string[];
  /** Ticks taken (manual triggers included), ticks skipped because a tick was still running, ticks missed past the catch-up window. */
  counts: { taken: number; skippedOverlap: number; missedCatchupWindow: number };
  runningTicks: string[];
  recentTicks: ScheduleTick[];
}

export async function describeRetrainingSchedule(client: Client, model: string): Promise<RetrainingScheduleView> {
  const description = await describeSchedule(client, model);
  const recentTicks = await Promise.all(
    description.info.recentActions.map(async (action): Promise<ScheduleTick> => {
      const { workflowId, firstExecutionRunId: runId } = action.action.workflow;
      const handle = client.workflow.getHandle<typeof scheduledRetraining>(workflowId, runId);
      const status = (await handle.describe().catch(() => null))?.status.name ?? 'UNKNOWN';
      const outcome = status === 'COMPLETED' ? await handle.result().catch(() => null) : null;
      return { scheduledAt: action.scheduledAt.toISOString(), takenAt: action.takenAt.toISOString(), workflowId, runId, status, outcome };
    }),
  );
  const spec = description.spec;
  return {
    scheduleId: description.scheduleId,
    model,
    schedule: tickInput(description)?.description ?? '',
    cron: tickInput(description)?.cron ?? [],
    intervals: (spec.intervals ?? []).map((i) => `${formatDuration(i.every / 1000)}${i.offset ? `/${formatDuration(i.offset / 1000)}` : ''}`),
    jitter: formatDuration((spec.jitter ?? 0) / 1000),
    timezone: spec.timezone ?? null,
    overlap: overlapName(description.policies.overlap),
    catchupWindow: formatDuration(description.policies.catchupWindow / 1000),
    pauseOnFailure: description.policies.pauseOnFailure,
    paused: description.state.paused,
    note: description.state.note ?? null,
    nextRuns: description.info.nextActionTimes.map((t) => t.toISOString()),
    counts: {
      taken: description.info.numActionsTaken,
      skippedOverlap: description.info.numActionsSkippedOverlap,
      missedCatchupWindow: description.info.numActionsMissedCatchupWindow,
    },
    runningTicks: description.info.runningActions.map((a) => a.workflow.workflowId),
    recentTicks,
  };
}

export interface ScheduleListing {
  scheduleId: string;
  model: string;
  schedule: string;
  paused: boolean;
  note: string | null;
  nextRun: string | null;
  lastTick: string | null;
}

/** The retraining schedules, or one model's (by its RetrainingModel search attribute). */
export async function listRetrainingSchedules(client: Client, model?: string): Promise<ScheduleListing[]> {
  if (model !== undefined && !SAGEMAKER_NAME.test(model)) throw new Error(`${JSON.stringify(model)} is not a model name (1-63 letters, digits, hyphens)`);
  const listings: ScheduleListing[] = [];
  for await (const s of client.schedule.list(model ? { query: `RetrainingModel = '${model}'` } : {})) {
    if (!s.scheduleId.startsWith(retrainingScheduleId(''))) continue;
    const description = await client.schedule.getHandle(s.scheduleId).describe().catch(() => null);
    if (!description) continue; // deleted since the listing
    listings.push({
      scheduleId: s.scheduleId,
      model: String(s.memo?.model ?? s.scheduleId.slice(retrainingScheduleId('').length)),
      schedule: tickInput(description)?.description ?? '',
      paused: description.state.paused,
      note: description.state.note ?? null,
      nextRun: description.info.nextActionTimes[0]?.toISOString() ?? null,
      lastTick: description.info.recentActions.at(-1)?.takenAt.toISOString() ?? null,
    });
  }
  return listings.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
}

export async function pauseRetrainingSchedule(client: Client, model: string, note?: string): Promise<RetrainingScheduleView> {
  await describeSchedule(client, model);
  await client.schedule.getHandle(retrainingScheduleId(model)).pause(note ?? 'paused with retrain schedule pause');
  return describeRetrainingSchedule(client, model);
}

export async function unpauseRetrainingSchedule(client: Client, model: string, note?: string): Promise<RetrainingScheduleView> {
  await describeSchedule(client, model);
  await client.schedule.getHandle(retrainingScheduleId(model)).unpause(note ?? 'unpaused with retrain schedule unpause');
  return describeRetrainingSchedule(client, model);
}

export async function deleteRetrainingSchedule(client: Client, model: string): Promise<void> {
  await describeSchedule(client, model);
  await client.schedule.getHandle(retrainingScheduleId(model)).delete();
}

export type TriggerResult =
  | { outcome: 'started'; tick: string }
  | { outcome: 'skipped'; reason: string }
  | { outcome: 'pending'; reason: string };

/**
 * Takes a tick now under the schedule's own overlap policy (Temporal's default for a trigger would be
 * allow-all), then watches the schedule's counters to say whether it started or was skipped.
 */
export async function triggerRetrainingSchedule(client: Client, model: string, waitMs = 10_000): Promise<TriggerResult> {
  const before = await describeSchedule(client, model);
  const handle = client.schedule.getHandle(retrainingScheduleId(model));
  await handle.trigger(before.policies.overlap);
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const now = await handle.describe();
    if (now.info.numActionsTaken > before.info.numActionsTaken) return { outcome: 'started', tick: now.info.recentActions.at(-1)!.action.workflow.workflowId };
    if (now.info.numActionsSkippedOverlap > before.info.numActionsSkippedOverlap) {
      return { outcome: 'skipped', reason: `the schedule's last tick (${before.info.runningActions.map((a) => a.workflow.workflowId).join(', ') || 'a run'}) is still running and the overlap policy is ${overlapName(before.policies.overlap)}` };
    }
  }
  return { outcome: 'pending', reason: `no tick started within ${waitMs / 1000}s: with overlap ${overlapName(before.policies.overlap)} it waits for the running tick to end` };
}
