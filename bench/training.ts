// `npm run bench -- training`: how the training stage waits on SageMaker, measured on the local stack.
//   - DescribeTrainingJob calls per job-hour on a time-scaled 6-hour job, with the pipeline's default
//     polling, against the AWS SDK waiter (its 120 s interval) measured the same way;
//   - history events for a 10-minute and a 6-hour job (they must not depend on the job's length);
//   - completion latency without and with SageMaker's events: job terminal → evaluation started, p50 and p95.
// Time-scaled parts run the local SageMaker at 3,600 simulated seconds per real second and scale the
// polling intervals by the same factor, so the counts are those a real 6-hour job would see.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTrainingJobCommand, DescribeTrainingJobCommand, SageMakerClient, waitUntilTrainingJobCompletedOrStopped } from '@aws-sdk/client-sagemaker';
import { DEFAULT_JOB_POLLING } from '../activities/sagemaker-jobs';
import type { PipelineConfigInput } from '../domain/config';
import { LINEAR_LEARNER_METRIC_DEFINITIONS } from '../local/algorithms/linear-learner/metrics';
import { customers, DEMO_BUCKET, demoConfig, labelledCsv } from '../local/demo-data';
import type { ObservedCall } from '../local/sagemaker';
import { startLocalStack, startLocalWorker, type LocalStack } from '../local/stack';
import { freePort } from '../local/temporal';
import { startEventReceiver, type EventReceiver } from '../receiver/sagemaker-events';
import { retrainingPipeline, type RetrainingOutcome } from '../workflows';
import { concurrencyFigures } from './concurrency';
import type { Figure } from './figures';

const TASK_QUEUE = 'bench-training';
const SCALE = 3600;
/** The AWS SDK waiter TrainingJobCompletedOrStopped polls every 120 s. */
const WAITER_DELAY_SECONDS = 120;

interface Bench {
  stack: LocalStack;
  receiver?: EventReceiver;
  worker: Awaited<ReturnType<typeof startLocalWorker>>;
  dataDir: string;
  describeCalls: Map<string, number>;
  runs: number;
}

async function startBench(scale: number, withEvents = false): Promise<Bench> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bench-training-'));
  const eventPort = withEvents ? await freePort() : undefined;
  const describeCalls = new Map<string, number>();
  const count = (call: ObservedCall) => {
    if (call.operation !== 'DescribeTrainingJob' || call.error) return;
    const name = (call.input as { TrainingJobName: string }).TrainingJobName;
    describeCalls.set(name, (describeCalls.get(name) ?? 0) + 1);
  };
  const stack = await startLocalStack({
    dataDir,
    buckets: [DEMO_BUCKET],
    applyToProcess: true,
    observeSageMakerCall: count,
    // With events: the local SageMaker posts its state changes, twice each as SageMaker may, to the receiver.
    sageMaker: { timeScale: scale, ...(eventPort ? { eventTargets: [`http://127.0.0.1:${eventPort}/`], duplicateEvents: true } : {}) },
  });
  const receiver = eventPort ? await startEventReceiver({ client: stack.temporal.environment.client, port: eventPort }) : undefined;
  const worker = await startLocalWorker(stack, {
    taskQueue: TASK_QUEUE,
    // The default polling policy, in simulated time.
    jobPolling: { firstMs: DEFAULT_JOB_POLLING.firstMs / scale, maxMs: DEFAULT_JOB_POLLING.maxMs / scale, factor: DEFAULT_JOB_POLLING.factor },
    sageMakerCallsPerSecond: 10 * scale,
  });
  await new S3Client({}).send(new PutObjectCommand({ Bucket: DEMO_BUCKET, Key: 'labels/initial.csv', Body: labelledCsv(customers('before', 3000, 1)) }));
  return { stack, receiver, worker, dataDir, describeCalls, runs: 0 };
}

async function stopBench(bench: Bench): Promise<void> {
  await bench.worker.stop();
  await bench.receiver?.close();
  await bench.stack.close();
  await rm(bench.dataDir, { recursive: true, force: true });
}

function config(faults?: string): PipelineConfigInput {
  const c = demoConfig({ metricDefinitions: LINEAR_LEARNER_METRIC_DEFINITIONS }) as PipelineConfigInput & { training: Record<string, unknown> };
  c.training = { ...c.training, maxRuntimeInSeconds: 86_400, ...(faults ? { tags: { 'local-sagemaker:faults': faults } } : {}) };
  // At 3,600 simulated seconds per real one, an hour's limit is one real second: too tight for a container's start.
  (c as { evaluation: Record<string, unknown> }).evaluation = { ...(c as { evaluation: Record<string, unknown> }).evaluation, maxRuntimeInSeconds: 86_400 };
  return c;
}

async function runPipeline(bench: Bench, input: PipelineConfigInput): Promise<{ outcome: RetrainingOutcome; historyEvents: number; latencyMs: number }> {
  const handle = await bench.stack.temporal.environment.client.workflow.start(retrainingPipeline, {
    taskQueue: TASK_QUEUE,
    workflowId: `bench-training-${++bench.runs}`,
    args: [{ config: input, force: true }],
  });
  const outcome = await handle.result();
  const history = await handle.fetchHistory();
  const events = history.events ?? [];
  // Completion latency: the training job's end → the evaluation activity started.
  const job = await new SageMakerClient({}).send(new DescribeTrainingJobCommand({ TrainingJobName: outcome.training.at(-1)!.jobName }));
  const scheduledEval = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'startEvaluation');
  const startedEval = events.find((e) => e.activityTaskStartedEventAttributes?.scheduledEventId?.toString() === scheduledEval?.eventId?.toString());
  const startedMs = Number(startedEval?.eventTime?.seconds ?? 0) * 1000 + Math.floor((startedEval?.eventTime?.nanos ?? 0) / 1e6);
  return { outcome, historyEvents: events.length, latencyMs: startedMs - (job.TrainingEndTime?.getTime() ?? startedMs) };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function trainingSuite(): Promise<Figure[]> {
  const figures: Figure[] = [];

  // Completion latency, in real time on short jobs of different lengths, without and with events.
  const latency = { noEvents: [] as number[], events: [] as number[] };
  for (const mode of ['noEvents', 'events'] as const) {
    const bench = await startBench(1, mode === 'events');
    try {
      await runPipeline(bench, config()); // the first model; later runs train incrementally
      for (let i = 0; i < 7; i++) {
        process.stderr.write(`training: latency ${mode === 'events' ? 'with' : 'without'} events, run ${i + 1}/7\n`);
        latency[mode].push((await runPipeline(bench, config(`slow@${i}`))).latencyMs / 1000);
      }
    } finally {
      await stopBench(bench);
    }
  }
  const cap = `<= ${DEFAULT_JOB_POLLING.maxMs / 1000}`;
  figures.push(
    { name: 'completionLatencyP50NoEvents', value: round(percentile(latency.noEvents, 50)), unit: 's', target: cap, peer: null },
    { name: 'completionLatencyP95NoEvents', value: round(percentile(latency.noEvents, 95)), unit: 's', target: cap, peer: null },
    { name: 'completionLatencyP50Events', value: round(percentile(latency.events, 50)), unit: 's', target: '<= 1', peer: null },
    { name: 'completionLatencyP95Events', value: round(percentile(latency.events, 95)), unit: 's', target: '<= 1', peer: null },
  );

  // Polling cost and history size, on time-scaled 10-minute and 6-hour jobs.
  const scaled = await startBench(SCALE);
  try {
    await runPipeline(scaled, config());
    process.stderr.write('training: a 10-minute job\n');
    const short = await runPipeline(scaled, config('slow@600'));
    process.stderr.write('training: a 6-hour job\n');
    const long = await runPipeline(scaled, config('slow@21600'));
    const longJob = long.outcome.training.at(-1)!.jobName;
    const sagemaker = new SageMakerClient({});
    const described = await sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: longJob }));
    const jobHours = (described.TrainingTimeInSeconds ?? 0) / 3600;
    const ours = (scaled.describeCalls.get(longJob) ?? 0) / jobHours;

    // The peer: the same 6-hour job waited on by the AWS SDK's waiter, its interval scaled the same way.
    process.stderr.write('training: the same 6-hour job under the AWS SDK waiter\n');
    const peerJob = `${longJob.slice(0, 55)}-waiter`;
    await sagemaker.send(
      new CreateTrainingJobCommand({
        TrainingJobName: peerJob,
        RoleArn: described.RoleArn,
        AlgorithmSpecification: described.AlgorithmSpecification,
        HyperParameters: described.HyperParameters,
        InputDataConfig: described.InputDataConfig,
        OutputDataConfig: described.OutputDataConfig,
        ResourceConfig: described.ResourceConfig,
        StoppingCondition: described.StoppingCondition,
        Tags: [{ Key: 'local-sagemaker:faults', Value: 'slow@21600' }],
      }),
    );
    const delay = WAITER_DELAY_SECONDS / SCALE;
    await waitUntilTrainingJobCompletedOrStopped({ client: sagemaker, maxWaitTime: 600, minDelay: delay, maxDelay: delay }, { TrainingJobName: peerJob });
    const peerDescribed = await sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: peerJob }));
    const peer = ((scaled.describeCalls.get(peerJob) ?? 1) - 1) / ((peerDescribed.TrainingTimeInSeconds ?? 0) / 3600);

    figures.push(
      { name: 'describeCallsPerJobHour6h', value: round(ours), unit: 'calls/h', target: '<= 12', peer: round(peer) },
      { name: 'historyEvents10MinJob', value: short.historyEvents, unit: 'events', target: null, peer: null },
      { name: 'historyEvents6HourJob', value: long.historyEvents, unit: 'events', target: `<= ${short.historyEvents}`, peer: null },
    );
  } finally {
    await stopBench(scaled);
  }

  // The 1,000-pipeline part takes half an hour; BENCH_TRAINING_CONCURRENCY=0 leaves it to `npm run bench -- concurrency`.
  if (process.env.BENCH_TRAINING_CONCURRENCY !== '0') figures.push(...(await concurrencyFigures()));
  return figures;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
