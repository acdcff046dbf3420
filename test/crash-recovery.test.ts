// Exactly once under worker crashes: the real worker entry runs as its own process, and the local
// SageMaker kills it (SIGKILL) right after a call took effect and before the worker hears back.
// A restarted worker must re-attach to what exists instead of creating it again.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeEndpointCommand, ListModelPackagesCommand, ListTrainingJobsCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { Client } from '@temporalio/client';
import type { PipelineConfigInput } from '../domain/config';
import { customers, DEMO_BUCKET, demoConfig, labelledCsv } from '../local/demo-data';
import type { ObservedCall } from '../local/sagemaker';
import { startLocalStack, type LocalStack } from '../local/stack';
import { retrainingPipeline, type RetrainingOutcome } from '../workflows';

const ROOT = path.resolve(__dirname, '..');
const TASK_QUEUE = 'crash-test';
let dataDir: string;
let stack: LocalStack;
let client: Client;
let sagemaker: SageMakerClient;
let worker: ChildProcess | undefined;
let runs = 0;
const crashes: string[] = [];

/** When set, the next call it matches kills the worker, and a new worker starts a moment later. */
let crashWhen: ((call: ObservedCall) => boolean) | undefined;
/** SIGKILL is a crash; SIGTERM is a graceful shutdown, as in a deploy. */
let crashSignal: NodeJS.Signals = 'SIGKILL';

/** Further watchers of every call (counting, say), besides the crash trigger. */
const observers: ((call: ObservedCall) => unknown)[] = [];

async function observe(call: ObservedCall): Promise<void> {
  for (const watch of observers) watch(call);
  if (!crashWhen || !crashWhen(call) || !worker) return;
  crashWhen = undefined;
  crashes.push(call.operation);
  const dead = worker;
  const exited = once(dead, 'exit').then(() => setTimeout(() => (worker = startWorker()), 300));
  dead.kill(crashSignal);
  // A crash is over before the caller hears back. A graceful shutdown waits for its activities, and
  // one of them waits for this very call, so the call must be answered first.
  if (crashSignal === 'SIGKILL') await exited;
}

function startWorker(): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'worker', 'worker.ts')], {
    cwd: ROOT,
    env: { ...process.env, ...stack.env, RETRAINING_TASK_QUEUE: TASK_QUEUE, RETRAINING_JOB_POLL_MAX_SECONDS: '0.2' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(path.join(dataDir, 'worker.log'), { flags: 'a' });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  return child;
}

before(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'crash-test-'));
  stack = await startLocalStack({ dataDir, buckets: [DEMO_BUCKET], applyToProcess: true, observeSageMakerCall: observe });
  client = stack.temporal.environment.client;
  sagemaker = new SageMakerClient({});
  await new S3Client({}).send(new PutObjectCommand({ Bucket: DEMO_BUCKET, Key: 'labels/initial.csv', Body: labelledCsv(customers('before', 3000, 1)) }));
  worker = startWorker();
});

after(async () => {
  crashWhen = undefined;
  if (worker && worker.exitCode === null) {
    worker.kill('SIGKILL');
    await once(worker, 'exit');
  }
  await stack?.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** A dead worker is noticed after the heartbeat (or call) timeout: keep both short here. */
function config(epochs = 5): PipelineConfigInput {
  const c = demoConfig() as PipelineConfigInput & { training: { hyperparameters: Record<string, unknown> } };
  c.training.hyperparameters = { ...c.training.hyperparameters, epochs, early_stopping_patience: epochs + 1 };
  return { ...c, orchestration: { heartbeatTimeoutSeconds: 5, callTimeoutSeconds: 5 } };
}

async function run(input: { config: PipelineConfigInput; force?: boolean }): Promise<RetrainingOutcome> {
  const handle = await client.workflow.start(retrainingPipeline, { taskQueue: TASK_QUEUE, workflowId: `crash-${++runs}`, args: [input] });
  return handle.result();
}

async function trainingJobsNamed(prefix?: string): Promise<string[]> {
  const jobs = await sagemaker.send(new ListTrainingJobsCommand({ ...(prefix ? { NameContains: prefix } : {}), MaxResults: 100 }));
  return (jobs.TrainingJobSummaries ?? []).map((j) => j.TrainingJobName!);
}

test('killed right after CreateTrainingJob took effect: the restarted worker attaches to that job', async () => {
  crashWhen = (call) => call.operation === 'CreateTrainingJob' && !call.error;
  const outcome = await run({ config: config() });
  assert.deepEqual(crashes, ['CreateTrainingJob']);
  assert.equal(outcome.decision, 'promoted', outcome.reason);
  const job = outcome.training[0]!;
  assert.equal(job.reattached, true, 'the second activity attempt found the job instead of creating it');
  assert.deepEqual(await trainingJobsNamed(job.jobName.replace(/-a1$/, '')), [job.jobName], 'exactly one job for the attempt');
});

test('killed while waiting on the job: the restarted worker waits for the same job', async () => {
  const existing = new Set(await trainingJobsNamed());
  crashWhen = (call) =>
    call.operation === 'DescribeTrainingJob' && !call.error && !existing.has((call.input as { TrainingJobName: string }).TrainingJobName);
  const outcome = await run({ config: config(3000), force: true });
  assert.deepEqual(crashes.slice(1), ['DescribeTrainingJob']);
  const job = outcome.training[0]!;
  assert.equal(job.status, 'Completed');
  assert.equal(job.reattached, false, 'the job was created once; only the wait moved to the new worker');
  assert.deepEqual(await trainingJobsNamed(job.jobName.replace(/-a1$/, '')), [job.jobName], 'exactly one job for the attempt');
});

test('a worker shut down gracefully while waiting (a deploy) leaves the job running; the next worker waits for it', async () => {
  const existing = new Set(await trainingJobsNamed());
  const stops: string[] = [];
  crashSignal = 'SIGTERM';
  crashWhen = (call) =>
    call.operation === 'DescribeTrainingJob' && !call.error && !existing.has((call.input as { TrainingJobName: string }).TrainingJobName);
  const watchStops = (call: ObservedCall) => call.operation === 'StopTrainingJob' && stops.push(String((call.input as { TrainingJobName: string }).TrainingJobName));
  observers.push(watchStops);
  try {
    const outcome = await run({ config: config(3000), force: true });
    const job = outcome.training[0]!;
    assert.equal(outcome.training.length, 1, 'one attempt');
    assert.equal(job.status, 'Completed', 'the shutdown did not stop the job');
    assert.deepEqual(stops, [], 'no StopTrainingJob on a worker shutdown');
    assert.deepEqual(await trainingJobsNamed(job.jobName.replace(/-a1$/, '')), [job.jobName]);
  } finally {
    crashSignal = 'SIGKILL';
    observers.splice(observers.indexOf(watchStops), 1);
  }
});

test('killed right after CreateModelPackage took effect: the retry returns the same package', async () => {
  const packages = async () =>
    (await sagemaker.send(new ListModelPackagesCommand({ ModelPackageGroupName: 'churn-propensity', MaxResults: 100 }))).ModelPackageSummaryList ?? [];
  const before = (await packages()).length;
  crashWhen = (call) => call.operation === 'CreateModelPackage' && !call.error;
  const outcome = await run({ config: config(), force: true });
  assert.deepEqual(crashes.slice(3), ['CreateModelPackage']);
  const after = await packages();
  assert.equal(after.length, before + 1, 'one package for the run, not two');
  assert.ok(after.some((p) => p.ModelPackageArn === outcome.modelPackageArn));
});

test('killed right after UpdateEndpoint took effect: the retry waits for that update and issues no second one', async () => {
  const issued: Record<string, number> = { CreateModel: 0, CreateEndpointConfig: 0, UpdateEndpoint: 0 };
  const count = (call: ObservedCall) => {
    if (!call.error && call.operation in issued) issued[call.operation]++;
  };
  observers.push(count);
  crashWhen = (call) => call.operation === 'UpdateEndpoint' && !call.error;
  try {
    // A tie promotes, so this run replaces the champion whatever its metrics.
    const outcome = await run({ config: { ...config(), gate: { minImprovement: 0 } }, force: true });
    assert.equal(crashes.at(-1), 'UpdateEndpoint');
    assert.equal(outcome.decision, 'promoted', outcome.reason);
    assert.equal(outcome.deployment?.status, 'deployed');
    assert.equal(outcome.deployment?.reattached, true, 'the second attempt found the update in progress and waited for it');
    assert.deepEqual(issued, { CreateModel: 1, CreateEndpointConfig: 1, UpdateEndpoint: 1 }, 'one model, one endpoint config, one update');
    const endpoint = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'churn-propensity' }));
    assert.equal(endpoint.EndpointConfigName, outcome.deployment?.endpointConfigName);
  } finally {
    observers.splice(observers.indexOf(count), 1);
  }
});
