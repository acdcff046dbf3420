// `retrain` as an operator runs it (its own process, Temporal and AWS from the environment) against the
// dev server and the local SageMaker: start, refusing a second start while a run is active, status and
// list by model and filters, cancel, the schedule commands, and bad usage exiting 2 naming the problem.
// Every list filter documented in docs/operations.md is run against the server.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import type { PipelineConfigInput } from '../domain/config';
import { customers, DEMO_BUCKET, demoConfig, labelledCsv } from '../local/demo-data';
import { startLocalStack, startLocalWorker, type LocalStack } from '../local/stack';
import { runRetrain, type RetrainResult } from './support/retrain-cli';
import { statusQuery } from '../workflows';

const ROOT = path.resolve(__dirname, '..');
const TASK_QUEUE = 'cli-test';
const MODEL = 'churn-propensity';
let dataDir: string;
let stack: LocalStack;
let client: Client;
let worker: Awaited<ReturnType<typeof startLocalWorker>>;
let configFile: string;

// Manual approval holds a run at awaiting-approval; a tie passes the gate.
const config: PipelineConfigInput = { ...demoConfig(), gate: { minImprovement: 0 }, approval: { mode: 'manual', timeoutSeconds: 3600 } };

before(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'cli-'));
  stack = await startLocalStack({ dataDir, buckets: [DEMO_BUCKET], applyToProcess: true });
  client = stack.temporal.environment.client;
  worker = await startLocalWorker(stack, { taskQueue: TASK_QUEUE, jobPolling: { firstMs: 200, maxMs: 1000 } });
  await new S3Client({}).send(new PutObjectCommand({ Bucket: DEMO_BUCKET, Key: 'labels/initial.csv', Body: labelledCsv(customers('before', 2000, 1)) }));
  configFile = path.join(dataDir, 'churn-propensity.json');
  await writeFile(configFile, JSON.stringify(config));
});

after(async () => {
  await worker?.stop();
  await stack?.close();
  await rm(dataDir, { recursive: true, force: true });
});

function retrain(...args: string[]): Promise<RetrainResult> {
  return runRetrain(stack.env, ...args);
}

async function awaitingApproval(workflowId: string): Promise<void> {
  const handle = client.workflow.getHandle(workflowId);
  for (let i = 0; i < 1200; i++) {
    const status = await handle.query(statusQuery).catch(() => null);
    if (status?.stage === 'awaiting-approval') return;
    if (status?.stage === 'done') assert.fail(`the run ended (${status.decision}: ${status.details})`);
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${workflowId} did not reach awaiting-approval`);
}

async function pipelineRunCount(): Promise<number> {
  let n = 0;
  for await (const _ of client.workflow.list({ query: `WorkflowType = 'retrainingPipeline'` })) n++;
  return n;
}

test('bad usage exits 2 naming the problem, and starts nothing', async () => {
  const cases: [string[], RegExp][] = [
    [['start', '--config', path.join(dataDir, 'missing.json')], /cannot read --config .*missing\.json/],
    [['start', '--config', configFile, '--set', 'training.epoch=5'], /training\.epoch: is not a field of the pipeline config/],
    [['start', '--config', configFile, '--set', 'drift.minSamples=-1'], /drift\.minSamples: /],
    [['start'], /required option '--config <file>' not specified/],
    [['list', '--stage', 'approval'], /--stage approval is not one of starting, drift/],
    [['list', '--limit', 'ten'], /--limit ten is not a whole number/],
    [['cancel'], /missing required argument 'model\|workflow-id'/],
    [['schedule', 'create', '--config', configFile], /cron: give a cron expression or an interval/],
    [['schedule', 'create', '--config', configFile, '--cron', '0 25 * * *', '--every', '6 hours'], /cron\[0\]: "0 25 \* \* \*" the hour field has 25[\s\S]*every\[0\]: "6 hours" is not a duration/],
    [['schedule', 'create', '--config', configFile, '--every', '1h', '--jitter', '2h'], /jitter: 2h must be shorter than the interval 1h/],
    [['schedule', 'create', '--config', configFile, '--every', '1h', '--catchup-window', '5s'], /catchupWindow: 5s is shorter than Temporal's minimum of 10s/],
    [['schedule', 'create', '--config', configFile, '--every', '1h', '--overlap', 'terminate-other'], /argument 'terminate-other' is invalid\. Allowed choices are skip, buffer-one/],
    [['schedule', 'frobnicate'], /unknown command 'frobnicate'/],
    [['list', '--query', 'RetrainingStage ='], /the server refused the query WorkflowType = 'retrainingPipeline' AND \(RetrainingStage =\): /],
  ];
  const results = await Promise.all(cases.map(([args]) => retrain(...args)));
  results.forEach((result, i) => {
    assert.equal(result.code, 2, `${cases[i][0].join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, cases[i][1], cases[i][0].join(' '));
  });
  assert.equal(await pipelineRunCount(), 0, 'nothing started');
  assert.equal((await retrain('schedule', 'list', '--json')).json().schedules instanceof Array, true);
  assert.deepEqual((await retrain('schedule', 'list', '--json')).json().schedules, [], 'no schedule created');
  const help = await retrain('schedule', 'create', '--help');
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--catchup-window <duration>/);
});

test('start, refuse a second start, status, list, cancel', async () => {
  const started = await retrain('start', '--config', configFile, '--force', '--set', 'training.hyperparameters.epochs=8', '--reason', 'nightly data landed', '--task-queue', TASK_QUEUE, '--json');
  assert.equal(started.code, 0, started.stderr);
  const run = started.json();
  assert.equal(run.workflowId, 'retrain-churn-propensity');
  assert.equal(run.trigger, 'manual');
  assert.deepEqual(run.overrides, ['training.hyperparameters.epochs=8']);
  const details = await (await client.workflow.getHandle('retrain-churn-propensity').describe()).staticDetails();
  assert.match(details ?? '', /\*\*Trigger\*\* manual: nightly data landed[\s\S]*\*\*Forced\*\*[\s\S]*\*\*Overrides\*\* `training\.hyperparameters\.epochs=8`/);
  await awaitingApproval('retrain-churn-propensity');

  const again = await retrain('start', '--config', configFile, '--task-queue', TASK_QUEUE);
  assert.equal(again.code, 1);
  assert.match(again.stderr, new RegExp(`a run of churn-propensity is already active: retrain-churn-propensity run ${run.runId} \\(stage awaiting-approval, trigger manual, started .*\\); one retraining of a model runs at a time, so none was started`));
  assert.equal(await pipelineRunCount(), 1, 'no second run');

  const status = await retrain('status', MODEL, '--json');
  assert.equal(status.code, 0, status.stderr);
  assert.equal(status.json().stage, 'awaiting-approval');
  const unknown = await retrain('status', 'no-such-model');
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no run of model no-such-model \(retrain-no-such-model\) and no workflow no-such-model/);

  const listed = await retrain('list', '--model', MODEL, '--status', 'running', '--json');
  assert.equal(listed.code, 0, listed.stderr);
  const runs = listed.json().runs as Record<string, unknown>[];
  assert.deepEqual(runs.map((r) => [r.workflowId, r.runId, r.status, r.stage, r.trigger]), [['retrain-churn-propensity', run.runId, 'RUNNING', 'awaiting-approval', 'manual']]);
  const table = await retrain('list', '--stage', 'awaiting-approval');
  assert.match(table.stdout, /^WORKFLOW ID\s+RUN ID\s+STATUS\s+STAGE\s+TRIGGER\s+DECISION\s+STARTED\nretrain-churn-propensity\s+\S+\s+RUNNING\s+awaiting-approval\s+manual\s+promote\s+\d{4}-/);
  assert.match((await retrain('list', '--model', 'fraud-score')).stdout, /no runs match .*RetrainingModel = 'fraud-score'/);
  const byQuery = await retrain('list', '--query', "RetrainingStage = 'awaiting-approval' AND ExecutionStatus = 'Running'", '--json');
  assert.deepEqual((byQuery.json().runs as Record<string, unknown>[]).map((r) => r.workflowId), ['retrain-churn-propensity']);

  const cancelled = await retrain('cancel', MODEL, '--reason', 'wrong labels uploaded', '--wait', '--json');
  assert.equal(cancelled.code, 0, cancelled.stderr);
  assert.equal(cancelled.json().status, 'CANCELLED');
  const history = await client.workflow.getHandle('retrain-churn-propensity').fetchHistory();
  assert.ok(history.events?.some((e) => e.workflowExecutionCancelRequestedEventAttributes?.cause === 'wrong labels uploaded'), 'the reason is in the history');
  const twice = await retrain('cancel', MODEL);
  assert.equal(twice.code, 1);
  assert.match(twice.stderr, /retrain-churn-propensity run .* is not running \(CANCELLED since .*\): nothing to cancel/);
  const gone = await retrain('list', '--model', MODEL, '--status', 'cancelled', '--json');
  assert.equal((gone.json().runs as unknown[]).length, 1);
});

test('schedule create, list, describe, trigger, pause, delete; approve by model; the documented list filters run', async () => {
  const created = await retrain('schedule', 'create', '--config', configFile, '--every', '1h', '--jitter', '1m', '--note', 'hourly drift check', '--force', '--task-queue', TASK_QUEUE, '--json');
  assert.equal(created.code, 0, created.stderr);
  assert.equal(created.json().scheduleId, 'retrain-schedule-churn-propensity');
  const exists = await retrain('schedule', 'create', '--config', configFile, '--every', '1h', '--task-queue', TASK_QUEUE);
  assert.equal(exists.code, 1);
  assert.match(exists.stderr, /model churn-propensity already has a schedule \(retrain-schedule-churn-propensity\): update it with --replace/);
  const replaced = await retrain('schedule', 'create', '--config', configFile, '--every', '2h', '--force', '--replace', '--task-queue', TASK_QUEUE, '--json');
  assert.equal(replaced.code, 0, replaced.stderr);
  assert.deepEqual(replaced.json().intervals, ['2h']);

  const listed = await retrain('schedule', 'list', '--model', MODEL);
  assert.match(listed.stdout, /^SCHEDULE\s+STATE\s+TIMES\s+NEXT RUN\s+LAST TICK\nretrain-schedule-churn-propensity\s+active\s+every 2h, overlap skip, forced/);

  const triggered = await retrain('schedule', 'trigger', MODEL, '--json');
  assert.equal(triggered.code, 0, triggered.stderr);
  assert.equal(triggered.json().outcome, 'started');
  await awaitingApproval('retrain-churn-propensity');
  const skipped = await retrain('schedule', 'trigger', MODEL);
  assert.match(skipped.stdout, /^skipped: the schedule's last tick \(retrain-schedule-churn-propensity-\S+\) is still running and the overlap policy is skip/);
  const described = await retrain('schedule', 'describe', MODEL);
  assert.match(described.stdout, /ticks taken 1, skipped while a tick ran 1, missed past the catch-up window 0/);
  assert.match(described.stdout, /running: retrain-schedule-churn-propensity-/);

  // The documented filters, while a scheduled run awaits approval and a cancelled run exists.
  const docs = await readFile(path.join(ROOT, 'docs', 'operations.md'), 'utf8');
  const section = docs.slice(docs.indexOf('## List filters'));
  const queries = [...section.matchAll(/^\| [^|]+ \| `([^`]+)` \|$/gm)].map((m) => m[1]);
  assert.ok(queries.length >= 10, `found ${queries.length} documented queries`);
  const found = new Map<string, string[]>();
  for (const query of queries) {
    const ids: string[] = [];
    for await (const w of client.workflow.list({ query })) ids.push(`${w.workflowId} ${w.status.name}`);
    found.set(query, ids);
  }
  const ids = (q: string) => found.get(q)!.map((s) => s.split(' ')[0]);
  assert.deepEqual(ids(`RetrainingStage = 'awaiting-approval' AND ExecutionStatus = 'Running'`), ['retrain-churn-propensity']);
  assert.deepEqual(ids(`WorkflowType = 'retrainingPipeline' AND RetrainingModel = 'churn-propensity'`), ['retrain-churn-propensity', 'retrain-churn-propensity']);
  assert.deepEqual(ids(`WorkflowType = 'retrainingPipeline' AND ExecutionStatus = 'Canceled'`), ['retrain-churn-propensity']);
  assert.deepEqual(ids(`RetrainingTrigger = 'schedule'`), ['retrain-churn-propensity']);
  assert.equal(ids(`TemporalScheduledById = 'retrain-schedule-churn-propensity'`).length, 1, 'the tick');
  assert.ok(ids(`TemporalScheduledById = 'retrain-schedule-churn-propensity'`)[0].startsWith('retrain-schedule-churn-propensity-'));
  for (const q of [`DriftScore > 0.3`, `RetrainingModel = 'churn-propensity' AND ExecutionStatus = 'Failed'`, `GateDecision = 'reject'`]) assert.deepEqual(found.get(q), [], q);

  const approved = await retrain('approve', MODEL, '--approver', 'ana@example.com', '--reason', 'first model looks right', '--json');
  assert.equal(approved.code, 0, approved.stderr);
  assert.equal(approved.json().status, 'approved');
  await client.workflow.getHandle('retrain-churn-propensity').result();
  const promoted = await retrain('list', '--model', MODEL, '--decision', 'promote', '--status', 'completed', '--json');
  assert.deepEqual((promoted.json().runs as Record<string, unknown>[]).map((r) => r.trigger), ['schedule']);

  const paused = await retrain('schedule', 'pause', MODEL, '--note', 'bucket migration', '--json');
  assert.deepEqual([paused.json().paused, paused.json().note], [true, 'bucket migration']);
  assert.match((await retrain('schedule', 'describe', MODEL)).stdout, /\[PAUSED\][\s\S]*note: bucket migration[\s\S]*tick \S+ retrain-schedule-churn-propensity-\S+: ran retrain-churn-propensity: promoted/);
  const deleted = await retrain('schedule', 'delete', MODEL);
  assert.equal(deleted.code, 0, deleted.stderr);
  const missing = await retrain('schedule', 'describe', MODEL);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /model churn-propensity has no retraining schedule \(retrain-schedule-churn-propensity\)/);
});
