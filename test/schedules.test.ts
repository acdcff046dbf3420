// Scheduled retraining on the real dev server and the local SageMaker: a schedule's tick runs the
// pipeline under the per-model id with trigger `schedule`; a tick while that run is active is skipped
// (the schedule counts it) and a tick while a manually started run is active ends `skipped`, saying
// so; neither starts a second run. Pause, unpause, list and delete work, and the cron expressions the
// spec module reads are ones the server accepts.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { retrainingStartOptions, retrainingWorkflowId } from '../client/runs';
import {
  createRetrainingSchedule,
  deleteRetrainingSchedule,
  describeRetrainingSchedule,
  listRetrainingSchedules,
  NoScheduleError,
  pauseRetrainingSchedule,
  triggerRetrainingSchedule,
  unpauseRetrainingSchedule,
  type RetrainingScheduleView,
} from '../client/schedules';
import type { PipelineConfigInput } from '../domain/config';
import { parseRetrainingSchedule } from '../domain/schedule-spec';
import { customers, DEMO_BUCKET, demoConfig, labelledCsv } from '../local/demo-data';
import { startLocalStack, startLocalWorker, type LocalStack } from '../local/stack';
import { approveUpdate, rejectUpdate, retrainingPipeline, statusQuery } from '../workflows';

const TASK_QUEUE = 'schedules-test';
const MODEL = 'churn-propensity';
let dataDir: string;
let stack: LocalStack;
let client: Client;
let worker: Awaited<ReturnType<typeof startLocalWorker>>;

// Manual approval keeps a run active, at awaiting-approval, for as long as the test needs it; a tie
// passes the gate (minImprovement 0), so a second run on the same data also waits for approval.
const config = { ...demoConfig(), gate: { minImprovement: 0 }, approval: { mode: 'manual' as const, timeoutSeconds: 3600 } } satisfies PipelineConfigInput;

before(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'schedules-'));
  stack = await startLocalStack({ dataDir, buckets: [DEMO_BUCKET], applyToProcess: true });
  client = stack.temporal.environment.client;
  worker = await startLocalWorker(stack, { taskQueue: TASK_QUEUE, jobPolling: { firstMs: 200, maxMs: 1000 } });
  await new S3Client({}).send(new PutObjectCommand({ Bucket: DEMO_BUCKET, Key: 'labels/initial.csv', Body: labelledCsv(customers('before', 2000, 1)) }));
});

after(async () => {
  await worker?.stop();
  await stack?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function eventually<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // A probe's own assertion fails the test at once; a server not yet answering is retried.
    const value = await probe().catch((err) => {
      if (err instanceof assert.AssertionError) throw err;
      return undefined;
    });
    if (value) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function awaitingApproval(handle: WorkflowHandle<typeof retrainingPipeline>): Promise<void> {
  await eventually(`${handle.workflowId} to await approval`, async () => {
    const status = await handle.query(statusQuery);
    if (status.stage === 'done') assert.fail(`the run ended (${status.decision}: ${status.details})`);
    return status.stage === 'awaiting-approval';
  });
}

async function pipelineRuns(): Promise<{ workflowId: string; status: string; trigger: unknown }[]> {
  const runs = [];
  for await (const run of client.workflow.list({ query: `RetrainingModel = '${MODEL}' AND WorkflowType = 'retrainingPipeline'` })) {
    runs.push({ workflowId: run.workflowId, status: run.status.name, trigger: run.typedSearchAttributes.getAll().find((p) => p.key.name === 'RetrainingTrigger')?.value });
  }
  return runs;
}

async function tickEnded(model: string, count: number): Promise<RetrainingScheduleView> {
  return eventually(`tick ${count} of ${model} to end`, async () => {
    const view = await describeRetrainingSchedule(client, model);
    return view.recentTicks.length >= count && view.recentTicks[count - 1].status !== 'RUNNING' && view;
  });
}

test('a schedule runs the pipeline, skips ticks while a run is active, and can be paused, listed and deleted', async () => {
  const schedule = parseRetrainingSchedule({ model: MODEL, every: ['1h'], jitter: '1m', catchupWindow: '10m', force: true, note: 'hourly retrain for the test' });
  const created = await createRetrainingSchedule(client, { config, schedule, taskQueue: TASK_QUEUE });
  assert.equal(created.scheduleId, 'retrain-schedule-churn-propensity');
  assert.equal(created.schedule, 'every 1h, jitter 1m, overlap skip, forced (retrains without drift)');
  assert.deepEqual([created.intervals, created.jitter, created.catchupWindow, created.overlap, created.paused, created.note], [['1h'], '1m', '10m', 'skip', false, 'hourly retrain for the test']);
  assert.ok(created.nextRuns.length > 0, 'the next runs are planned');
  await assert.rejects(createRetrainingSchedule(client, { config, schedule, taskQueue: TASK_QUEUE }), /model churn-propensity already has a schedule \(retrain-schedule-churn-propensity\): update it with --replace, or delete it first/);

  // 1. A tick starts the pipeline under the per-model id, with trigger schedule and the schedule in its details.
  const first = await triggerRetrainingSchedule(client, MODEL);
  assert.equal(first.outcome, 'started');
  const run = client.workflow.getHandle<typeof retrainingPipeline>(retrainingWorkflowId(MODEL));
  await awaitingApproval(run);
  const description = await run.describe();
  assert.equal(description.typedSearchAttributes.getAll().find((p) => p.key.name === 'RetrainingTrigger')?.value, 'schedule');
  assert.equal(await description.staticSummary(), 'Retrain churn-propensity (schedule)');
  assert.match((await description.staticDetails()) ?? '', /\*\*Trigger\*\* schedule: retrain-schedule-churn-propensity[\s\S]*\*\*Schedule\*\* every 1h/);
  assert.equal(description.parentExecution?.workflowId, (first as { tick: string }).tick, 'the tick started it');

  // 2. A tick while that run is active is skipped by the overlap policy, and counted.
  const second = await triggerRetrainingSchedule(client, MODEL);
  assert.equal(second.outcome, 'skipped', JSON.stringify(second));
  const skipped = await describeRetrainingSchedule(client, MODEL);
  assert.equal(skipped.counts.skippedOverlap, 1);
  assert.equal(skipped.counts.taken, 1);
  assert.deepEqual(skipped.runningTicks, [(first as { tick: string }).tick]);
  assert.deepEqual((await pipelineRuns()).map((r) => r.workflowId), ['retrain-churn-propensity'], 'no second run');

  // The run ends; the tick reports it.
  await run.executeUpdate(approveUpdate, { args: [{ approver: 'ana@example.com', reason: 'first model' }] });
  assert.equal((await run.result()).decision, 'promoted');
  const afterRun = await tickEnded(MODEL, 1);
  assert.equal(afterRun.recentTicks[0].status, 'COMPLETED');
  assert.deepEqual({ ...afterRun.recentTicks[0].outcome, runId: undefined, reason: undefined }, { status: 'ran', model: MODEL, workflowId: 'retrain-churn-propensity', runId: undefined, decision: 'promoted', reason: undefined });

  // 3. A run started by hand is active: the next tick starts nothing and ends skipped, naming the run.
  const manual = await client.workflow.start(retrainingPipeline, { ...retrainingStartOptions(config, { trigger: 'manual', reason: 'ana' }, { force: true }), taskQueue: TASK_QUEUE });
  await awaitingApproval(manual);
  assert.equal((await triggerRetrainingSchedule(client, MODEL)).outcome, 'started', 'the tick itself starts; it finds the run');
  const third = await tickEnded(MODEL, 2);
  assert.equal(third.recentTicks[1].status, 'COMPLETED');
  assert.equal(third.recentTicks[1].outcome?.status, 'skipped');
  assert.match(third.recentTicks[1].outcome?.reason ?? '', /a run of churn-propensity is already active \(retrain-churn-propensity\)/);
  const runs = await pipelineRuns();
  assert.equal(runs.filter((r) => r.status === 'RUNNING').length, 1, 'still one run');
  await manual.executeUpdate(rejectUpdate, { args: [{ approver: 'ana@example.com', reason: 'test over' }] });
  await manual.result();

  // A scheduled run an operator cancels ends its tick as cancelled, not failed (pauseOnFailure would pause the schedule).
  assert.equal((await triggerRetrainingSchedule(client, MODEL)).outcome, 'started');
  await awaitingApproval(run);
  await run.cancel();
  const cancelled = await tickEnded(MODEL, 3);
  assert.deepEqual([cancelled.recentTicks[2].status, cancelled.recentTicks[2].outcome?.status], ['COMPLETED', 'cancelled']);

  // 4. Pause and unpause, with notes; list by model; delete.
  const paused = await pauseRetrainingSchedule(client, MODEL, 'data team migrating the bucket');
  assert.deepEqual([paused.paused, paused.note], [true, 'data team migrating the bucket']);
  const unpaused = await unpauseRetrainingSchedule(client, MODEL, 'migration done');
  assert.deepEqual([unpaused.paused, unpaused.note], [false, 'migration done']);

  const other = { ...config, model: 'fraud-score', endpoint: { ...config.endpoint, name: 'fraud-score' } };
  await createRetrainingSchedule(client, { config: other, schedule: parseRetrainingSchedule({ model: 'fraud-score', cron: ['0 2 * * *'], paused: true }), taskQueue: TASK_QUEUE });
  const all = await eventually('both schedules listed', async () => {
    const listed = await listRetrainingSchedules(client);
    return listed.length === 2 && listed;
  });
  assert.deepEqual(all.map((s) => [s.model, s.paused]), [['churn-propensity', false], ['fraud-score', true]]);
  assert.equal(all[1].schedule, 'cron "0 2 * * *" (UTC), overlap skip');
  const one = await eventually('the model filter', async () => {
    const listed = await listRetrainingSchedules(client, 'fraud-score');
    return listed.length === 1 && listed;
  });
  assert.equal(one[0].scheduleId, 'retrain-schedule-fraud-score');

  await deleteRetrainingSchedule(client, 'fraud-score');
  await assert.rejects(describeRetrainingSchedule(client, 'fraud-score'), (err: Error) => err instanceof NoScheduleError && /has no retraining schedule \(retrain-schedule-fraud-score\)/.test(err.message));
  await assert.rejects(pauseRetrainingSchedule(client, 'fraud-score'), NoScheduleError);
  await deleteRetrainingSchedule(client, MODEL);
});

test('an interval schedule ticks on its own; unforced, each tick is a drift check that ends skipped without traffic', async () => {
  const schedule = parseRetrainingSchedule({ model: MODEL, every: ['5s'], jitter: '1s', catchupWindow: '10s' });
  await createRetrainingSchedule(client, { config, schedule, taskQueue: TASK_QUEUE });
  const view = await tickEnded(MODEL, 2);
  await deleteRetrainingSchedule(client, MODEL);
  for (const tick of view.recentTicks.slice(0, 2)) {
    assert.equal(tick.outcome?.status, 'ran', JSON.stringify(tick));
    assert.equal((tick.outcome as { decision: string }).decision, 'skipped');
    assert.match(tick.outcome!.reason, /insufficient data: \d+ captured records, fewer than 200/);
    assert.ok(Date.parse(tick.takenAt) - Date.parse(tick.scheduledAt) < 5_000, 'taken on time');
  }
  const scheduled = (await pipelineRuns()).filter((r) => r.trigger === 'schedule');
  assert.ok(scheduled.length >= 3, `the earlier ticks' runs and these: ${JSON.stringify(scheduled)}`);
});

test('the server accepts every cron form the spec module reads', async () => {
  const crons = ['*/15 * * * *', '0 9-17 * * MON-FRI', '0 2 * * MON,THU', '0 0 1 * *', '30 */10 * * * * *', '0 3 * JAN,JUL * 2027', '@daily # nightly', '@every 1d/2h', '0 2 * * 7'];
  for (const [i, cron] of crons.entries()) {
    const model = `cron-check-${i}`;
    const checked = { ...config, model, endpoint: { ...config.endpoint, name: model } };
    const view = await createRetrainingSchedule(client, { config: checked, schedule: parseRetrainingSchedule({ model, cron: [cron], timezone: 'Europe/Berlin', paused: true }), taskQueue: TASK_QUEUE });
    assert.ok(view.nextRuns.length > 0 || cron.includes('2027'), `${cron} plans runs`);
    await deleteRetrainingSchedule(client, model);
  }
});
