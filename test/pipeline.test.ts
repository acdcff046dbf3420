// The whole pipeline as a workflow on a real Temporal dev server, against the local SageMaker and S3.
// The scenarios run in order and share one endpoint, as a model's life does.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeEndpointCommand,
  DescribeModelPackageCommand,
  DescribeTrainingJobCommand,
  ListTrainingJobsCommand,
  SageMakerClient,
  StopTrainingJobCommand,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { ApplicationFailure, CancelledFailure, WorkflowFailedError, type Client } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { parsePipelineConfig, type PipelineConfigInput } from '../domain/config';
import { LINEAR_LEARNER_METRIC_DEFINITIONS } from '../local/algorithms/linear-learner/metrics';
import { customers, DEMO_BUCKET, demoConfig, labelledCsv } from '../local/demo-data';
import { startLocalStack, startLocalWorker, type LocalStack } from '../local/stack';
import { retrainingPipeline, statusQuery, type RetrainingInput, type RetrainingOutcome } from '../workflows';

const TASK_QUEUE = 'pipeline-test';
let dataDir: string;
let stack: LocalStack;
let worker: Awaited<ReturnType<typeof startLocalWorker>>;
let client: Client;
let s3: S3Client;
let sagemaker: SageMakerClient;
let runtime: SageMakerRuntimeClient;
let runs = 0;

const config = (): PipelineConfigInput => demoConfig({ metricDefinitions: LINEAR_LEARNER_METRIC_DEFINITIONS });

before(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'pipeline-test-'));
  stack = await startLocalStack({ dataDir, buckets: [DEMO_BUCKET], applyToProcess: true });
  s3 = new S3Client({});
  sagemaker = new SageMakerClient({});
  runtime = new SageMakerRuntimeClient({});
  client = stack.temporal.environment.client;
  worker = await startLocalWorker(stack, { taskQueue: TASK_QUEUE, jobPolling: { firstMs: 100, maxMs: 200 } });
});

after(async () => {
  await worker?.stop();
  await stack?.close();
  if (!process.env.KEEP_TEST_DATA) await rm(dataDir, { recursive: true, force: true });
  else console.log('kept', dataDir);
});

async function start(input: RetrainingInput) {
  return client.workflow.start(retrainingPipeline, { taskQueue: TASK_QUEUE, workflowId: `retrain-test-${++runs}`, args: [input] });
}

async function run(input: RetrainingInput): Promise<RetrainingOutcome> {
  return (await start(input)).result();
}

async function putLabels(key: string, body: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: DEMO_BUCKET, Key: `labels/${key}`, Body: body }));
}

async function sendTraffic(rows: number[][]): Promise<void> {
  for (let i = 0; i < rows.length; i += 10) {
    const body = rows.slice(i, i + 10).map((r) => r.join(',')).join('\n');
    await runtime.send(new InvokeEndpointCommand({ EndpointName: 'churn-propensity', ContentType: 'text/csv', Body: new TextEncoder().encode(body) }));
  }
  await new Promise((r) => setTimeout(r, 1500)); // data capture flushes every second
}

async function trainingJobCount(): Promise<number> {
  return (await sagemaker.send(new ListTrainingJobsCommand({ MaxResults: 100 }))).TrainingJobSummaries?.length ?? 0;
}

/** Waits until a training job is InProgress and returns its name. */
async function runningTrainingJob(): Promise<string> {
  for (let i = 0; i < 300; i++) {
    const jobs = await sagemaker.send(new ListTrainingJobsCommand({ StatusEquals: 'InProgress' }));
    const name = jobs.TrainingJobSummaries?.[0]?.TrainingJobName;
    if (name) return name;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail('no training job started');
}

async function failureOf(promise: Promise<unknown>): Promise<WorkflowFailedError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${String(err)}`);
    return err;
  }
  assert.fail('the run was expected to fail');
}

test('a bad config is rejected with every bad field named, and starts no job', async () => {
  const bad = { ...config(), endpoint: { name: 'no_underscores_allowed', captureS3Uri: 'not-a-uri' }, gate: { minImprovement: -1 } };
  assert.throws(() => parsePipelineConfig(bad), (err: Error) => {
    assert.match(err.message, /endpoint\.name: must match/);
    assert.match(err.message, /endpoint\.captureS3Uri: must be an s3:\/\/bucket\/prefix URI/);
    assert.match(err.message, /gate\.minImprovement/);
    return true;
  });
  // A workflow started with it anyway (say, by an old client) fails at once, naming the field.
  const failure = await failureOf(run({ config: bad as PipelineConfigInput }));
  assert.ok(failure.cause instanceof ApplicationFailure);
  assert.equal(failure.cause.type, 'InvalidConfig');
  assert.match(failure.cause.message, /endpoint\.name/);
  assert.equal(await trainingJobCount(), 0);
});

test('the first run trains a model, registers it and creates the endpoint', async () => {
  await putLabels('2026-10-01-initial.csv', labelledCsv(customers('before', 4000, 1)));
  const outcome = await run({ config: config() });
  assert.equal(outcome.decision, 'promoted', outcome.reason);
  assert.equal(outcome.drift.verdict, 'no_champion');
  assert.equal(outcome.champion, null);
  assert.equal(outcome.training.length, 1);
  assert.equal(outcome.training[0]!.incrementalFrom, null);
  assert.ok(outcome.dataset!.rows >= 4000 * 0.99, `dataset rows ${outcome.dataset!.rows}`);
  assert.equal(outcome.deployment!.created, true);
  assert.equal(outcome.serving!.servingNewModel, true);
  const endpoint = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'churn-propensity' }));
  assert.equal(endpoint.EndpointStatus, 'InService');
  assert.equal(endpoint.EndpointConfigName, outcome.deployment!.endpointConfigName);
});

test('without drift the run is skipped, with the reason recorded, and trains nothing', async () => {
  const before = await trainingJobCount();
  await sendTraffic(customers('before', 600, 11).map((c) => c.features));
  const handle = await start({ config: config() });
  const outcome = await handle.result();
  assert.equal(outcome.decision, 'skipped');
  assert.equal(outcome.drift.verdict, 'no_drift');
  assert.match(outcome.reason, /no drift/);
  assert.ok(outcome.drift.currentCount >= 600, `captured ${outcome.drift.currentCount}`);
  assert.equal(await trainingJobCount(), before);
  const status = await handle.query(statusQuery);
  assert.equal(status.stage, 'done');
  assert.equal(status.decision, 'skipped');
  const { searchAttributes } = await handle.describe();
  assert.deepEqual(searchAttributes.GateDecision, ['skipped']);
  assert.equal(typeof searchAttributes.DriftScore?.[0], 'number');
});

test('drifted traffic and new labels: retrained from the champion artifact, evaluated, promoted', async () => {
  const championBefore = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'churn-propensity' }));
  await sendTraffic(customers('after', 1200, 2).map((c) => c.features));
  const labels = customers('after', 2000, 3);
  await putLabels('2026-11-24.csv', labelledCsv([...labels, ...labels.slice(0, 5)]) + '0,12.5,abc,3,0.1\n7,50,20,3,0.1\n1,50,20\n');
  const handle = await start({ config: config() });
  const outcome = await handle.result();

  assert.equal(outcome.drift.verdict, 'drift');
  assert.ok(outcome.drift.driftedFeatures.includes('monthly_spend'), `drifted: ${outcome.drift.driftedFeatures}`);
  assert.ok(outcome.drift.driftedFeatures.includes('discount_rate'), `drifted: ${outcome.drift.driftedFeatures}`);
  assert.equal(outcome.dataset!.quarantined, 3);
  assert.equal(outcome.dataset!.duplicates, 5);
  assert.ok(outcome.dataset!.newRows >= 1990, `new rows ${outcome.dataset!.newRows}`);
  assert.ok(outcome.dataset!.parent, 'the new version records its parent');

  const job = await sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: outcome.training[0]!.jobName }));
  const modelChannel = job.InputDataConfig?.find((c) => c.ChannelName === 'model');
  assert.equal(modelChannel?.DataSource?.S3DataSource?.S3Uri, outcome.champion!.modelDataUrl);
  assert.equal(modelChannel?.ContentType, 'application/x-sagemaker-model');

  assert.equal(outcome.decision, 'promoted', outcome.reason);
  assert.ok(outcome.gate!.candidate > outcome.gate!.champion!, `candidate ${outcome.gate!.candidate} vs champion ${outcome.gate!.champion}`);
  assert.equal(outcome.serving!.servingNewModel, true);
  const endpoint = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'churn-propensity' }));
  assert.notEqual(endpoint.EndpointConfigName, championBefore.EndpointConfigName);
  const registered = await sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: outcome.modelPackageArn! }));
  assert.equal(registered.ModelApprovalStatus, 'Approved');
  assert.equal(registered.CustomerMetadataProperties?.DatasetVersion, outcome.dataset!.versionId);
  assert.equal(registered.CustomerMetadataProperties?.TrainingJobName, outcome.training[0]!.jobName);

  // The real history replays against the current workflow code: the pipeline is deterministic.
  await Worker.runReplayHistory({ workflowsPath: require.resolve('../worker/workflows') }, await handle.fetchHistory(), handle.workflowId);
});

test('a candidate that does not beat the champion by the required margin is registered as Rejected and not deployed', async () => {
  const before = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'churn-propensity' }));
  // Forced, with no new labels: the candidate only trains further on the champion's own data, so it
  // cannot gain the five accuracy points this policy demands.
  const strict = config() as PipelineConfigInput & { gate: { minImprovement: number }; training: { hyperparameters: Record<string, unknown> } };
  strict.gate = { minImprovement: 0.05 };
  strict.training.hyperparameters = { ...strict.training.hyperparameters, epochs: 3 };
  const outcome = await run({ config: strict, force: true });
  assert.equal(outcome.decision, 'rejected', outcome.reason);
  assert.equal(outcome.dataset!.newRows, 0);
  assert.ok(outcome.gate!.improvement! < 0.05, `improvement ${outcome.gate!.improvement}`);
  assert.match(outcome.reason, /0\.05/);
  assert.deepEqual(outcome.training[0]!.hyperparameterChanges.epochs, ['10', '3'], 'the override is recorded against the champion');
  const registered = await sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: outcome.modelPackageArn! }));
  assert.equal(registered.ModelApprovalStatus, 'Rejected');
  assert.match(registered.ApprovalDescription ?? '', /gate:/);
  const after = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'churn-propensity' }));
  assert.equal(after.EndpointConfigName, before.EndpointConfigName);
  assert.equal(outcome.deployment, null);
});

test('cancelling the run stops the training job it started', async () => {
  const slow = config() as PipelineConfigInput & { training: { hyperparameters: Record<string, unknown> } };
  // Early stopping off (patience beyond the epochs), so the job runs until it is stopped.
  slow.training.hyperparameters = { ...slow.training.hyperparameters, epochs: 100000, early_stopping_patience: 100001 };
  const handle = await start({ config: slow, force: true });
  const jobName = await runningTrainingJob();
  await handle.cancel();
  const failure = await failureOf(handle.result());
  assert.ok(failure.cause instanceof CancelledFailure, `cause: ${failure.cause}`);
  const job = await sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: jobName }));
  assert.equal(job.TrainingJobStatus, 'Stopped');
});

test('a job an operator stops outside the workflow ends the run as CancelledByOperator, saying so, with no retry', async () => {
  const slow = config() as PipelineConfigInput & { training: { hyperparameters: Record<string, unknown> } };
  slow.training.hyperparameters = { ...slow.training.hyperparameters, epochs: 100000, early_stopping_patience: 100001 };
  const handle = await start({ config: slow, force: true });
  const jobName = await runningTrainingJob();
  await sagemaker.send(new StopTrainingJobCommand({ TrainingJobName: jobName }));
  const failure = await failureOf(handle.result());
  assert.ok(failure.cause instanceof ApplicationFailure, `cause: ${failure.cause}`);
  assert.equal(failure.cause.type, 'CancelledByOperator');
  assert.match(failure.cause.message, /cancelled by an operator/);
  assert.match(failure.cause.message, new RegExp(`attempt 1: ${jobName}`));
  const attempts = await sagemaker.send(new ListTrainingJobsCommand({ NameContains: jobName.replace(/-a1$/, '') }));
  assert.deepEqual(attempts.TrainingJobSummaries?.map((j) => j.TrainingJobName), [jobName], 'no second attempt');
});

type TrainingConfig = PipelineConfigInput & { training: Record<string, unknown> & { hyperparameters: Record<string, unknown> } };

/** A config whose training jobs carry local-mode faults (the reserved tag) and run long enough to be interrupted. */
function faulty(faults: string, training: Record<string, unknown> = {}): TrainingConfig {
  const c = config() as TrainingConfig;
  c.training = { ...c.training, ...training, tags: { 'local-sagemaker:faults': faults } };
  c.training.hyperparameters = { ...c.training.hyperparameters, epochs: 6000, early_stopping_patience: 6001 };
  return c;
}

async function trainingJob(name: string) {
  return sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: name }));
}

test('a job SageMaker stops three times (spot wait exceeded) resumes from its checkpoint each time and completes', async () => {
  const outcome = await run({ config: faulty('max-wait-exceeded@1 x3', { failurePolicy: { stoppedBySageMaker: { attempts: 4 } } }), force: true });
  assert.deepEqual(outcome.training.map((t) => [t.status, t.failureClass ?? 'completed']), [
    ['Stopped', 'stopped_by_sagemaker'],
    ['Stopped', 'stopped_by_sagemaker'],
    ['Stopped', 'stopped_by_sagemaker'],
    ['Completed', 'completed'],
  ]);
  assert.deepEqual(outcome.training.map((t) => t.resumedFromCheckpoint), [false, true, true, true]);
  const jobs = await Promise.all(outcome.training.map((t) => trainingJob(t.jobName)));
  assert.deepEqual(jobs.map((j) => j.SecondaryStatus), ['MaxWaitTimeExceeded', 'MaxWaitTimeExceeded', 'MaxWaitTimeExceeded', 'Completed']);
  // One checkpoint location and one champion artifact across the attempts.
  assert.equal(new Set(jobs.map((j) => j.CheckpointConfig?.S3Uri)).size, 1);
  assert.equal(new Set(jobs.map((j) => j.InputDataConfig?.find((c) => c.ChannelName === 'model')?.DataSource?.S3DataSource?.S3Uri)).size, 1);
  // The algorithm itself saw the restored checkpoint (its log is the CloudWatch stand-in).
  for (const job of outcome.training.slice(1)) {
    const log = await readFile(path.join(dataDir, 'sagemaker', 'logs', `${job.jobName}.log`), 'utf8');
    assert.match(log, /resum/i, `${job.jobName} did not resume from its checkpoint`);
  }
});

test('a spot interruption inside a job is progress, not a failure: one attempt, and it completes', async () => {
  const outcome = await run({ config: faulty('spot-interruption@1'), force: true });
  assert.deepEqual(outcome.training.map((t) => [t.status, t.attempt]), [['Completed', 1]]);
  const job = await trainingJob(outcome.training[0]!.jobName);
  const statuses = job.SecondaryStatusTransitions?.map((t) => t.Status) ?? [];
  assert.ok(statuses.includes('Interrupted'), `transitions: ${statuses.join(' → ')}`);
  assert.equal(statuses.at(-1), 'Completed');
});

test('a capacity error starts a new attempt on the fallback instance type', async () => {
  const c = faulty('capacity-error x1', {
    fallbackInstanceTypes: ['ml.c5.xlarge'],
    failurePolicy: { capacity: { attempts: 3, backoffSeconds: 0 } },
  });
  c.training.hyperparameters = { ...c.training.hyperparameters, epochs: 3 };
  const outcome = await run({ config: c, force: true });
  assert.deepEqual(outcome.training.map((t) => t.failureClass ?? 'completed'), ['capacity', 'completed']);
  assert.match(outcome.training[0]!.failureReason!, /^CapacityError/);
  const second = await trainingJob(outcome.training[1]!.jobName);
  assert.equal(second.ResourceConfig?.InstanceType, 'ml.c5.xlarge');
});

test('an internal error inside a job starts a new attempt, and a quota refused at create is retried within bounds', async () => {
  const internal = faulty('internal-error x1', { failurePolicy: { serviceFault: { backoffSeconds: 0 } } });
  internal.training.hyperparameters = { ...internal.training.hyperparameters, epochs: 3 };
  const recovered = await run({ config: internal, force: true });
  assert.deepEqual(recovered.training.map((t) => t.failureClass ?? 'completed'), ['service_fault', 'completed']);

  // More instances than the account's quota: ResourceLimitExceeded at every create, so the run gives up
  // after the policy's attempts and says why, without a job ever starting.
  const greedy = config() as TrainingConfig;
  greedy.training = { ...greedy.training, instanceCount: 50, failurePolicy: { quota: { attempts: 2, backoffSeconds: 0 } } };
  const before = await trainingJobCount();
  const failure = await failureOf(run({ config: greedy, force: true }));
  assert.ok(failure.cause instanceof ApplicationFailure, `cause: ${failure.cause}`);
  assert.equal(failure.cause.type, 'TrainingFailed');
  assert.match(failure.cause.message, /2 attempt\(s\) ended with quota, and failurePolicy\.quota\.attempts allows 2/);
  assert.match(failure.cause.message, /ResourceLimitExceeded/);
  assert.equal(await trainingJobCount(), before);
});

test('an algorithm error fails the run at once with SageMaker\'s reason, and leaves the champion alone', async () => {
  const before = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'churn-propensity' }));
  const handle = await start({ config: faulty('algorithm-error@0.5'), force: true });
  const failure = await failureOf(handle.result());
  assert.ok(failure.cause instanceof ApplicationFailure, `cause: ${failure.cause}`);
  assert.equal(failure.cause.type, 'TrainingFailed');
  assert.match(failure.cause.message, /training failed after 1 attempt\(s\): the training code failed \(AlgorithmError\)/);
  assert.match(failure.cause.message, /attempt 1: .*algorithm error after \d+s — AlgorithmError/);
  const after = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'churn-propensity' }));
  assert.equal(after.EndpointConfigName, before.EndpointConfigName);
});

test('a request SageMaker rejects fails the run with SageMaker\'s own error', async () => {
  const unknownImage = config() as PipelineConfigInput & { training: { image: string } };
  unknownImage.training.image = '000000000000.dkr.ecr.us-east-1.amazonaws.com/no-such-algorithm:1';
  const failure = await failureOf(run({ config: unknownImage, force: true }));
  const cause = failure.cause?.cause ?? failure.cause;
  assert.ok(cause instanceof ApplicationFailure, `cause: ${cause}`);
  assert.equal(cause.type, 'ValidationException');
  assert.match(cause.message, /no-such-algorithm/);
});
