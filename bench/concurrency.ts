// 1,000 pipelines waiting on training jobs at once, on one worker process.
//   - the worker's resident memory (peak, sampled every second from /proc);
//   - SageMaker control-plane calls per second reaching the local SageMaker, from the first start until
//     every pipeline is waiting, and over a minute of steady waiting after that;
//   - throttles: calls the local SageMaker refused with ThrottlingException.
// The local SageMaker admits SERVER_CALLS_PER_SECOND calls per second, account-wide. AWS does not publish
// its control-plane rates; 20 per second is an assumption, stated in the results. The peer is the same
// worker with its shared call budget lifted, measured in the same bench run.
// Every job carries the local fault `slow@86400`, so it stays InProgress (Downloading) for a simulated
// day: the bench measures waiting, and no container process starts.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { PipelineConfigInput } from '../domain/config';
import { customers, DEMO_BUCKET, demoConfig, labelledCsv } from '../local/demo-data';
import type { ObservedCall } from '../local/sagemaker';
import { startLocalStack, type LocalStack } from '../local/stack';
import { retrainingPipeline } from '../workflows';
import type { Figure } from './figures';

const ROOT = path.resolve(__dirname, '..');
const TASK_QUEUE = 'bench-concurrency';
const SERVER_CALLS_PER_SECOND = 20;
const STEADY_WINDOW_SECONDS = 60;

export interface ConcurrencyRun {
  pipelines: number;
  peakRssMiB: number;
  /** After the steady minute: what holding the waits costs, without the start-up's bundling peak. */
  steadyRssMiB: number;
  secondsUntilAllWaiting: number;
  callsPerSecondStarting: number;
  callsPerSecondSteady: number;
  throttles: number;
  /** Training jobs created beyond one per pipeline still running (each makes one attempt). */
  extraJobs: number;
  /** Pipelines that ended (failed) before or during the measurement: none should. */
  pipelinesFailed: number;
  /** Pipelines whose training wait had begun when the measurement started (all, unless the cap was hit). */
  pipelinesWaiting: number;
}

/** One measured run: `callsPerSecond` is the worker's budget (a huge number lifts it). */
export async function concurrentWaits(pipelines: number, callsPerSecond: number, label: string, waitCapMs = 1_800_000): Promise<ConcurrencyRun> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bench-concurrency-'));
  const callTimes: number[] = [];
  let throttles = 0;
  const created = new Set<string>();
  const observe = (call: ObservedCall) => {
    callTimes.push(Date.now());
    if (call.error === 'ThrottlingException') throttles++;
    if (call.operation === 'CreateTrainingJob' && !call.error) {
      const name = (call.input as { TrainingJobName: string }).TrainingJobName;
      created.add(name);
    }
  };
  const waiting = new Set<string>();
  const observeWaits = (call: ObservedCall) => {
    observe(call);
    // A Describe of a job that exists, after its create, is the wait's first poll (or the run's lookup).
    if (call.operation === 'DescribeTrainingJob' && !call.error) {
      const name = (call.input as { TrainingJobName: string }).TrainingJobName;
      if (created.has(name)) waiting.add(name);
    }
  };
  const stack = await startLocalStack({
    dataDir,
    buckets: [DEMO_BUCKET],
    applyToProcess: true,
    observeSageMakerCall: observeWaits,
    sageMaker: { controlPlaneRateLimit: SERVER_CALLS_PER_SECOND, trainingInstanceQuota: pipelines * 2 },
  });
  let worker: ChildProcess | undefined;
  let peakRssKiB = 0;
  const sampler = setInterval(() => {
    if (worker?.pid) void rssKiB(worker.pid).then((kib) => (peakRssKiB = Math.max(peakRssKiB, kib)));
  }, 1000);
  try {
    await new S3Client({}).send(new PutObjectCommand({ Bucket: DEMO_BUCKET, Key: 'labels/initial.csv', Body: labelledCsv(customers('before', 400, 1)) }));
    worker = startWorker(stack, dataDir, callsPerSecond);
    const client = stack.temporal.environment.client;
    const started = Date.now();
    for (let i = 0; i < pipelines; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, pipelines - i) }, (_, k) =>
          client.workflow.start(retrainingPipeline, {
            taskQueue: TASK_QUEUE,
            workflowId: `bench-concurrency-${label}-${i + k}`,
            args: [{ config: pipelineConfig(i + k), force: true }],
          }),
        ),
      );
    }
    process.stderr.write(`concurrency (${label}): ${pipelines} pipelines started\n`);
    // A pipeline that failed (the unbudgeted peer's throttled calls can exhaust retries) never waits.
    const failed = async () => {
      let n = 0;
      for await (const _ of client.workflow.list({ query: `WorkflowId STARTS_WITH "bench-concurrency-${label}-" AND ExecutionStatus != "Running"` })) n++;
      return n;
    };
    let closed = 0;
    // Without a budget, throttled waits can retry for as long as the rate stays exceeded: past the cap the
    // run is measured as it stands, and the figure says how many pipelines reached their wait.
    const cap = Date.now() + waitCapMs;
    for (let last = 0, tick = 0; waiting.size + closed < pipelines && Date.now() < cap; tick++) {
      if (tick % 15 === 14) closed = await failed();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      if (worker.exitCode !== null) throw new Error(`the worker exited with ${worker.exitCode}; see ${path.join(dataDir, 'worker.log')}`);
      if (waiting.size - last >= 100) {
        process.stderr.write(`concurrency (${label}): ${waiting.size}/${pipelines} waiting, ${closed} ended\n`);
        last = waiting.size;

      }
    }
    const allWaiting = Date.now();
    const reachedWait = waiting.size;
    const startingCalls = callTimes.length;
    process.stderr.write(`concurrency (${label}): ${reachedWait}/${pipelines} waiting after ${((allWaiting - started) / 1000).toFixed(0)} s; measuring ${STEADY_WINDOW_SECONDS} s of waiting\n`);
    await new Promise((resolve) => setTimeout(resolve, STEADY_WINDOW_SECONDS * 1000));
    const steadyCalls = callTimes.length - startingCalls;
    const steadyRssKiB = await rssKiB(worker.pid!);
    closed = await failed();
    return {
      pipelines,
      peakRssMiB: Math.round(peakRssKiB / 1024),
      steadyRssMiB: Math.round(steadyRssKiB / 1024),
      secondsUntilAllWaiting: Math.round((allWaiting - started) / 1000),
      callsPerSecondStarting: round(startingCalls / ((allWaiting - started) / 1000)),
      callsPerSecondSteady: round(steadyCalls / STEADY_WINDOW_SECONDS),
      throttles,
      extraJobs: created.size - (pipelines - closed),
      pipelinesFailed: closed,
      pipelinesWaiting: reachedWait,
    };
  } finally {
    clearInterval(sampler);
    if (worker && worker.exitCode === null) {
      worker.kill('SIGTERM');
      await once(worker, 'exit');
    }
    await stack.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

function pipelineConfig(i: number): PipelineConfigInput {
  const model = `bench-${String(i).padStart(4, '0')}`;
  const c = demoConfig() as PipelineConfigInput & { training: Record<string, unknown>; dataset: Record<string, unknown>; endpoint: Record<string, unknown> };
  return {
    ...c,
    model,
    endpoint: { ...c.endpoint, name: model },
    dataset: { ...c.dataset, rootS3Uri: `s3://${DEMO_BUCKET}/datasets/${model}` },
    training: { ...c.training, maxRuntimeInSeconds: 172_800, tags: { 'local-sagemaker:faults': 'slow@86400' } },
  };
}

/** The project's own worker entry, as a separate process, so its memory is its own. */
function startWorker(stack: LocalStack, dataDir: string, callsPerSecond: number): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'worker', 'worker.ts')], {
    cwd: ROOT,
    env: { ...process.env, ...stack.env, RETRAINING_TASK_QUEUE: TASK_QUEUE, RETRAINING_SAGEMAKER_CALLS_PER_SECOND: String(callsPerSecond) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(path.join(dataDir, 'worker.log'));
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  return child;
}

async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** The figures: ours with the default budget (10 calls/s), the peer's with the budget lifted. */
export async function concurrencyFigures(): Promise<Figure[]> {
  const pipelines = Number(process.env.BENCH_PIPELINES ?? 1000);
  const ours = await concurrentWaits(pipelines, 10, 'budget');
  // The peer gets as long as ours took, and five minutes more, to get all its pipelines waiting.
  const peer = await concurrentWaits(pipelines, 1_000_000, 'unbudgeted', ours.secondsUntilAllWaiting * 1000 + 300_000);
  const note = `${pipelines} pipelines, local SageMaker admitting ${SERVER_CALLS_PER_SECOND} calls/s`;
  return [
    { name: `concurrentWaitsWorkerPeakRss (${note})`, value: ours.peakRssMiB, unit: 'MiB', target: null, peer: peer.peakRssMiB },
    { name: 'concurrentWaitsWorkerSteadyRss', value: ours.steadyRssMiB, unit: 'MiB', target: null, peer: peer.steadyRssMiB },
    { name: 'concurrentWaitsThrottles', value: ours.throttles, unit: 'calls', target: '<= 0', peer: peer.throttles },
    { name: 'concurrentWaitsCallsPerSecondStarting', value: ours.callsPerSecondStarting, unit: 'calls/s', target: `<= ${SERVER_CALLS_PER_SECOND}`, peer: peer.callsPerSecondStarting },
    { name: 'concurrentWaitsCallsPerSecondSteady', value: ours.callsPerSecondSteady, unit: 'calls/s', target: `<= ${SERVER_CALLS_PER_SECOND}`, peer: peer.callsPerSecondSteady },
    { name: 'concurrentWaitsSecondsUntilAllWaiting', value: ours.secondsUntilAllWaiting, unit: 's', target: null, peer: peer.secondsUntilAllWaiting },
    { name: 'concurrentWaitsPipelinesWaiting', value: ours.pipelinesWaiting, unit: 'runs', target: `>= ${pipelines}`, peer: peer.pipelinesWaiting },
    { name: 'concurrentWaitsPipelinesFailed', value: ours.pipelinesFailed, unit: 'runs', target: '<= 0', peer: peer.pipelinesFailed },
    { name: 'concurrentWaitsExtraJobs', value: ours.extraJobs, unit: 'jobs', target: '<= 0', peer: peer.extraJobs },
  ];
}
