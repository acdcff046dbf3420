// Fault injection and the time scale in the local SageMaker, through the unmodified SDK: the
// reserved `local-sagemaker:faults` tag (spot interruptions, max-wait stops counted across retries,
// capacity/internal/algorithm failures, slow starts), control-plane throttling, and simulated time.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateProcessingJobCommand,
  CreateTrainingJobCommand,
  DescribeProcessingJobCommand,
  DescribeTrainingJobCommand,
  ListTrainingJobsCommand,
  SageMakerClient,
  type CreateTrainingJobRequest,
  type DescribeTrainingJobResponse,
} from '@aws-sdk/client-sagemaker';
import { extract as extractTar } from 'tar';
import { LOCAL_S3_CREDENTIALS, startLocalS3, type LocalS3 } from '../local/s3';
import { startLocalSageMaker, type LocalSageMaker, type LocalSageMakerOptions } from '../local/sagemaker';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const BUCKET = 'sm-faults';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/SageMakerRole`;
const IMAGE = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/epoch-trainer:latest`;
const credentials = LOCAL_S3_CREDENTIALS;

// One "epoch" per checkpoint file; a restart resumes after the newest one it finds, and the model
// records which checkpoint files this container saw when it started.
const EPOCH_TRAINER = `
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
const root = process.env.OPT_ML ?? '/opt/ml';
const hp = JSON.parse(readFileSync(path.join(root, 'input/config/hyperparameters.json'), 'utf8'));
const epochs = Number(hp.epochs ?? 3);
const sleepMs = Number(hp.sleep_ms ?? 100);
const dir = path.join(root, 'checkpoints');
mkdirSync(dir, { recursive: true });
const seen = readdirSync(dir).filter((f) => /^epoch-\\d+\\.txt$/.test(f)).sort();
const resumedFrom = seen.reduce((max, f) => Math.max(max, Number(/\\d+/.exec(f)![0])), 0);
console.log('resumed from epoch ' + resumedFrom);
process.on('SIGTERM', () => { console.log('SIGTERM'); process.exit(0); });
let epoch = resumedFrom;
const next = () => {
  if (epoch >= epochs) {
    mkdirSync(path.join(root, 'model'), { recursive: true });
    writeFileSync(path.join(root, 'model', 'model.json'), JSON.stringify({ resumedFrom, seen, epochs }));
    return;
  }
  epoch++;
  writeFileSync(path.join(dir, 'epoch-' + String(epoch).padStart(3, '0') + '.txt'), 'epoch ' + epoch);
  console.log('epoch ' + epoch + ' done');
  setTimeout(next, sleepMs);
};
setTimeout(next, sleepMs);
`;

let workDir: string;
let s3Server: LocalS3;
let s3: S3Client;
const servers: LocalSageMaker[] = [];

async function server(options: Partial<LocalSageMakerOptions>, clientOptions: { maxAttempts?: number } = {}): Promise<SageMakerClient> {
  const local = await startLocalSageMaker({
    dataDir: await mkdtemp(path.join(workDir, 'sagemaker-')),
    s3,
    stopGraceSeconds: 2,
    checkpointSyncMs: 200,
    images: { 'epoch-trainer': { train: path.join(workDir, 'epoch-trainer.ts'), process: path.join(workDir, 'epoch-trainer.ts') } },
    ...options,
  });
  servers.push(local);
  return new SageMakerClient({ region: REGION, endpoint: local.endpoint, credentials, ...clientOptions });
}

let sagemaker: SageMakerClient;

before(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'local-sagemaker-faults-'));
  await writeFile(path.join(workDir, 'epoch-trainer.ts'), EPOCH_TRAINER);
  s3Server = await startLocalS3({ directory: path.join(workDir, 's3'), buckets: [BUCKET] });
  s3 = new S3Client({ region: REGION, endpoint: s3Server.endpoint, credentials });
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'data/train/rows.csv', Body: '1,2\n3,4\n' }));
  sagemaker = await server({});
});

after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await s3Server?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

function trainingJob(name: string, faults: string | undefined, overrides: Partial<CreateTrainingJobRequest> = {}, hp = { epochs: '3', sleep_ms: '100' }): CreateTrainingJobRequest {
  return {
    TrainingJobName: name,
    RoleArn: ROLE,
    AlgorithmSpecification: { TrainingImage: IMAGE, TrainingInputMode: 'File' },
    HyperParameters: hp,
    InputDataConfig: [{ ChannelName: 'train', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${BUCKET}/data/train/` } } }],
    OutputDataConfig: { S3OutputPath: `s3://${BUCKET}/output` },
    ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 10 },
    StoppingCondition: { MaxRuntimeInSeconds: 600 },
    ...(faults === undefined ? {} : { Tags: [{ Key: 'local-sagemaker:faults', Value: faults }] }),
    ...overrides,
  };
}

const finished = (job: DescribeTrainingJobResponse) => !['InProgress', 'Stopping'].includes(job.TrainingJobStatus!);

/** Polls until the job ends; returns it with every status seen on the way. */
async function waitForJob(client: SageMakerClient, name: string, timeoutMs = 20_000): Promise<{ job: DescribeTrainingJobResponse; statuses: Set<string> }> {
  const deadline = Date.now() + timeoutMs;
  const statuses = new Set<string>();
  for (;;) {
    const job = await client.send(new DescribeTrainingJobCommand({ TrainingJobName: name }));
    statuses.add(job.TrainingJobStatus!);
    if (finished(job)) return { job, statuses };
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${name}: ${JSON.stringify(job.SecondaryStatusTransitions)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function run(client: SageMakerClient, request: CreateTrainingJobRequest, timeoutMs?: number) {
  await client.send(new CreateTrainingJobCommand(request));
  return waitForJob(client, request.TrainingJobName!, timeoutMs);
}

async function modelJson(s3Uri: string): Promise<{ resumedFrom: number; seen: string[]; epochs: number }> {
  const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: s3Uri.replace(`s3://${BUCKET}/`, '') }));
  const dir = await mkdtemp(path.join(workDir, 'model-'));
  await writeFile(path.join(dir, 'model.tar.gz'), Buffer.from(await object.Body!.transformToByteArray()));
  await mkdir(path.join(dir, 'out'));
  await extractTar({ file: path.join(dir, 'model.tar.gz'), cwd: path.join(dir, 'out') });
  return JSON.parse(await readFile(path.join(dir, 'out', 'model.json'), 'utf8')) as { resumedFrom: number; seen: string[]; epochs: number };
}

const secondaryStatuses = (job: DescribeTrainingJobResponse) => job.SecondaryStatusTransitions!.map((t) => t.Status);

describe('fault injection', { concurrency: true }, () => {
  test('a spot interruption restarts training from its checkpoints, and the job stays InProgress and completes', async () => {
    const { job, statuses } = await run(
      sagemaker,
      trainingJob('spot-interrupted', 'spot-interruption@1.5', {
        EnableManagedSpotTraining: true,
        StoppingCondition: { MaxRuntimeInSeconds: 600, MaxWaitTimeInSeconds: 1200 },
        CheckpointConfig: { S3Uri: `s3://${BUCKET}/checkpoints/spot` },
      }, { epochs: '12', sleep_ms: '200' }),
    );
    assert.equal(job.TrainingJobStatus, 'Completed', job.FailureReason);
    assert.deepEqual([...statuses].filter((s) => s !== 'Completed'), ['InProgress']);
    assert.deepEqual(secondaryStatuses(job), ['Starting', 'Downloading', 'Training', 'Interrupted', 'Starting', 'Downloading', 'Training', 'Uploading', 'Completed']);
    const model = await modelJson(job.ModelArtifacts!.S3ModelArtifacts!);
    assert.ok(model.resumedFrom >= 1, `the restarted container saw its own checkpoint: ${JSON.stringify(model)}`);
    assert.ok(model.resumedFrom < 12);
  });

  test('max-wait-exceeded x3 stops three consecutive jobs of one run; the fourth completes from their checkpoints', async () => {
    const checkpoint = { S3Uri: `s3://${BUCKET}/checkpoints/max-wait` };
    // At most 10 epochs fit in each 1 s attempt, so three attempts cannot finish 40.
    const hp = { epochs: '40', sleep_ms: '100' };
    for (let attempt = 1; attempt <= 3; attempt++) {
      const { job } = await run(sagemaker, trainingJob(`max-wait-${attempt}`, 'max-wait-exceeded@1 x3', { CheckpointConfig: checkpoint }, hp));
      assert.equal(job.TrainingJobStatus, 'Stopped', `attempt ${attempt}: ${job.FailureReason}`);
      assert.equal(job.SecondaryStatus, 'MaxWaitTimeExceeded');
    }
    const { job } = await run(sagemaker, trainingJob('max-wait-4', 'max-wait-exceeded@1 x3', { CheckpointConfig: checkpoint }, hp));
    assert.equal(job.TrainingJobStatus, 'Completed', job.FailureReason);
    const model = await modelJson(job.ModelArtifacts!.S3ModelArtifacts!);
    assert.ok(model.resumedFrom >= 3 && model.seen.length === model.resumedFrom, JSON.stringify(model));
    assert.ok(model.seen.includes('epoch-001.txt'));
  });

  test('a capacity error fails the job while Starting, before any container runs', async () => {
    const { job } = await run(sagemaker, trainingJob('capacity', 'capacity-error'));
    assert.equal(job.TrainingJobStatus, 'Failed');
    assert.equal(job.FailureReason, 'CapacityError: Unable to provision requested ML compute capacity. Please retry using a different ML instance type.');
    assert.deepEqual(secondaryStatuses(job), ['Starting', 'Failed']);
  });

  test('an internal error fails the job with SageMaker\'s reason', async () => {
    const { job } = await run(sagemaker, trainingJob('internal', 'internal-error'));
    assert.equal(job.TrainingJobStatus, 'Failed');
    assert.match(job.FailureReason!, /^InternalServerError: /);
  });

  test('an algorithm error kills the container mid-training', async () => {
    const { job } = await run(sagemaker, trainingJob('algorithm', 'algorithm-error@0.5', {}, { epochs: '20', sleep_ms: '100' }));
    assert.equal(job.TrainingJobStatus, 'Failed');
    assert.match(job.FailureReason!, /^AlgorithmError: /);
    assert.ok(secondaryStatuses(job).includes('Training'));
  });

  test('algorithm-error without a time crashes the container as Training begins', async () => {
    const { job } = await run(sagemaker, trainingJob('algorithm-at-once', 'algorithm-error'));
    assert.equal(job.TrainingJobStatus, 'Failed');
    assert.equal(job.FailureReason, 'AlgorithmError: See job logs for more information');
  });

  test('processing jobs take the faults that apply to them and reject the rest', async () => {
    const processingJob = (name: string, faults: string) =>
      new CreateProcessingJobCommand({
        ProcessingJobName: name,
        RoleArn: ROLE,
        AppSpecification: { ImageUri: IMAGE },
        ProcessingResources: { ClusterConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 10 } },
        Tags: [{ Key: 'local-sagemaker:faults', Value: faults }],
      });
    await assert.rejects(sagemaker.send(processingJob('processing-spot', 'spot-interruption@1')), (err: Error) => {
      assert.equal(err.name, 'ValidationException');
      assert.match(err.message, /local-sagemaker:faults.*spot-interruption@1/);
      return true;
    });
    await sagemaker.send(processingJob('processing-capacity', 'capacity-error x1'));
    const deadline = Date.now() + 10_000;
    let job = await sagemaker.send(new DescribeProcessingJobCommand({ ProcessingJobName: 'processing-capacity' }));
    while (job.ProcessingJobStatus === 'InProgress' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      job = await sagemaker.send(new DescribeProcessingJobCommand({ ProcessingJobName: 'processing-capacity' }));
    }
    assert.equal(job.ProcessingJobStatus, 'Failed');
    assert.match(job.FailureReason!, /^CapacityError: /);
  });

  test('a malformed fault tag is rejected at CreateTrainingJob, naming the tag and the fault', async () => {
    for (const bad of ['spot-interuption@5', 'spot-interruption', 'capacity-error@3', 'slow@ten']) {
      await assert.rejects(sagemaker.send(new CreateTrainingJobCommand(trainingJob('malformed', `slow@1;${bad}`))), (err: Error) => {
        assert.equal(err.name, 'ValidationException');
        assert.ok(err.message.includes('local-sagemaker:faults') && err.message.includes(bad), err.message);
        return true;
      });
    }
    await assert.rejects(sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: 'malformed' })), /Requested resource not found/);
  });

  test('at timeScale 3600, slow@21600 is a six-hour job that finishes in seconds', async () => {
    const scaled = await server({ timeScale: 3600 });
    const started = Date.now();
    const { job } = await run(scaled, trainingJob('six-hours', 'slow@21600', { StoppingCondition: { MaxRuntimeInSeconds: 86400 } }, { epochs: '2', sleep_ms: '50' }), 15_000);
    assert.equal(job.TrainingJobStatus, 'Completed', job.FailureReason);
    assert.ok(Date.now() - started < 10_000);
    assert.ok(job.TrainingTimeInSeconds! >= 21600 && job.BillableTimeInSeconds === job.TrainingTimeInSeconds, String(job.TrainingTimeInSeconds));
    const [, downloading] = job.SecondaryStatusTransitions!;
    assert.equal(downloading.Status, 'Downloading');
    assert.ok(downloading.EndTime!.getTime() - downloading.StartTime!.getTime() >= 21600 * 1000);
  });

  test('throttleRate 1 answers every control-plane call with ThrottlingException', async () => {
    const throttled = await server({ faults: { throttleRate: 1, seed: 7 } }, { maxAttempts: 1 });
    for (const call of [
      () => throttled.send(new ListTrainingJobsCommand({})),
      () => throttled.send(new DescribeTrainingJobCommand({ TrainingJobName: 'anything' })),
      () => throttled.send(new CreateTrainingJobCommand(trainingJob('throttled', undefined))),
    ]) {
      await assert.rejects(call(), (err: Error & { $metadata?: { httpStatusCode?: number } }) => {
        assert.equal(err.name, 'ThrottlingException');
        assert.equal(err.message, 'Rate exceeded');
        assert.equal(err.$metadata?.httpStatusCode, 400);
        return true;
      });
    }
  });

  test('internalErrorRate answers a seeded share of calls with a 500 InternalFailure, the same share on every run', async () => {
    const outcomes = async () => {
      const flaky = await server({ faults: { internalErrorRate: 0.5, seed: 42 } }, { maxAttempts: 1 });
      const seen: string[] = [];
      for (let i = 0; i < 12; i++) {
        seen.push(
          await flaky.send(new ListTrainingJobsCommand({})).then(
            () => 'ok',
            (err: Error & { $metadata?: { httpStatusCode?: number } }) => `${err.name}/${err.$metadata?.httpStatusCode}`,
          ),
        );
      }
      return seen;
    };
    const first = await outcomes();
    assert.deepEqual(await outcomes(), first);
    assert.ok(first.includes('ok') && first.includes('InternalFailure/500'), first.join());
  });
});

test('no job directories are left behind by failed starts', async () => {
  // A capacity error never ran a container, so it wrote no log.
  const dataDirs = (await readdir(workDir)).filter((d) => d.startsWith('sagemaker-'));
  const logs = await Promise.all(dataDirs.map((d) => readdir(path.join(workDir, d, 'logs')).catch(() => [])));
  assert.ok(!logs.flat().includes('capacity.log'));
});
