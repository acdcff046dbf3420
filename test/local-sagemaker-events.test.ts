// The local SageMaker as SageMaker + EventBridge + API destination: state-change events POSTed to
// HTTP targets in the documented envelope, in order per job, retried, optionally duplicated, and
// flushed on close.
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateProcessingJobCommand,
  CreateTrainingJobCommand,
  DescribeProcessingJobCommand,
  DescribeTrainingJobCommand,
  SageMakerClient,
  type CreateTrainingJobRequest,
} from '@aws-sdk/client-sagemaker';
import { LOCAL_S3_CREDENTIALS, startLocalS3, type LocalS3 } from '../local/s3';
import {
  startLocalSageMaker,
  type LocalSageMaker,
  type LocalSageMakerEvent,
  type LocalSageMakerOptions,
  type ProcessingJobStateChange,
  type TrainingJobStateChange,
} from '../local/sagemaker';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const BUCKET = 'sm-events';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/SageMakerRole`;
const IMAGE = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/event-job:latest`;
const credentials = LOCAL_S3_CREDENTIALS;

// Trains (writes a model) or processes (writes an output file), after an optional sleep.
const JOB_SCRIPT = `
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
const root = process.env.OPT_ML ?? '/opt/ml';
if (process.argv.includes('process')) {
  mkdirSync(path.join(root, 'processing/output'), { recursive: true });
  writeFileSync(path.join(root, 'processing/output/result.txt'), 'ok');
} else {
  const hp = JSON.parse(readFileSync(path.join(root, 'input/config/hyperparameters.json'), 'utf8'));
  setTimeout(() => writeFileSync(path.join(root, 'model/model.json'), '{}'), Number(hp.sleep_ms ?? 0));
}
`;

interface Received {
  event: LocalSageMakerEvent;
  headers: IncomingHttpHeaders;
}

/** An HTTP receiver that records every POST; `answer` picks the status of the nth request (1-based). */
async function receiver(
  answer: (n: number) => number = () => 200,
): Promise<{ url: string; received: Received[]; requests: () => number; close(): Promise<void> }> {
  const received: Received[] = [];
  let requests = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const status = answer(++requests);
      if (status >= 200 && status < 300) {
        received.push({ event: JSON.parse(Buffer.concat(chunks).toString('utf8')) as LocalSageMakerEvent, headers: req.headers });
      }
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`,
    received,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type Receiver = Awaited<ReturnType<typeof receiver>>;

let workDir: string;
let s3Server: LocalS3;
let s3: S3Client;
const closers: (() => Promise<void>)[] = [];

async function server(options: Partial<LocalSageMakerOptions>): Promise<{ local: LocalSageMaker; client: SageMakerClient }> {
  const local = await startLocalSageMaker({
    dataDir: await mkdtemp(path.join(workDir, 'sagemaker-')),
    s3,
    stopGraceSeconds: 1,
    images: { 'event-job': { train: path.join(workDir, 'job.ts'), process: path.join(workDir, 'job.ts') } },
    ...options,
  });
  closers.push(() => local.close());
  return { local, client: new SageMakerClient({ region: REGION, endpoint: local.endpoint, credentials }) };
}

async function track(r: Promise<Receiver>): Promise<Receiver> {
  const started = await r;
  closers.push(() => started.close());
  return started;
}

before(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'local-sagemaker-events-'));
  await writeFile(path.join(workDir, 'job.ts'), JOB_SCRIPT);
  s3Server = await startLocalS3({ directory: path.join(workDir, 's3'), buckets: [BUCKET] });
  s3 = new S3Client({ region: REGION, endpoint: s3Server.endpoint, credentials });
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'data/train/rows.csv', Body: '1,2\n' }));
});

after(async () => {
  // Servers first (they flush to the receivers), then the receivers.
  for (const close of closers) await close();
  await s3Server?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

function trainingJob(name: string, overrides: Partial<CreateTrainingJobRequest> = {}): CreateTrainingJobRequest {
  return {
    TrainingJobName: name,
    RoleArn: ROLE,
    AlgorithmSpecification: { TrainingImage: IMAGE, TrainingInputMode: 'File' },
    HyperParameters: { sleep_ms: '0' },
    InputDataConfig: [{ ChannelName: 'train', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${BUCKET}/data/train/` } } }],
    OutputDataConfig: { S3OutputPath: `s3://${BUCKET}/output` },
    ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 10 },
    StoppingCondition: { MaxRuntimeInSeconds: 600 },
    Tags: [{ Key: 'team', Value: 'forecasting' }],
    ...overrides,
  };
}

async function eventually<T>(what: string, probe: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function runTraining(client: SageMakerClient, request: CreateTrainingJobRequest): Promise<void> {
  await client.send(new CreateTrainingJobCommand(request));
  const deadline = Date.now() + 20_000;
  for (;;) {
    const job = await client.send(new DescribeTrainingJobCommand({ TrainingJobName: request.TrainingJobName }));
    if (!['InProgress', 'Stopping'].includes(job.TrainingJobStatus!)) return;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${request.TrainingJobName}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const trainingEvents = (r: Receiver, name: string) =>
  r.received.map((x) => x.event).filter((e): e is TrainingJobStateChange => e['detail-type'] === 'SageMaker Training Job State Change' && e.detail.TrainingJobName === name);
const processingEvents = (r: Receiver, name: string) =>
  r.received.map((x) => x.event).filter((e): e is ProcessingJobStateChange => e['detail-type'] === 'SageMaker Processing Job State Change' && e.detail.ProcessingJobName === name);
const states = (events: TrainingJobStateChange[]) => events.map((e) => `${e.detail.TrainingJobStatus}/${e.detail.SecondaryStatus}`);
const isTerminal = (e: TrainingJobStateChange) => ['Completed', 'Failed', 'Stopped'].includes(e.detail.TrainingJobStatus!);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const EXPECTED_STATES = ['InProgress/Starting', 'InProgress/Downloading', 'InProgress/Training', 'InProgress/Uploading', 'Completed/Completed'];

describe('EventBridge events from the local SageMaker', () => {
  let good: Receiver;
  let flaky: Receiver;
  let rejecting: Receiver;
  let client: SageMakerClient;

  before(async () => {
    good = await track(receiver());
    flaky = await track(receiver((n) => (n <= 2 ? 500 : 200)));
    rejecting = await track(receiver(() => 400));
    ({ client } = await server({
      eventTargets: [good.url, flaky.url, rejecting.url],
      eventHeaders: { 'x-api-key': 'local-secret' },
    }));
  });

  test('a training job sends its state changes, in the documented envelope, ending Completed', async () => {
    await runTraining(client, trainingJob('events-train'));
    const events = await eventually('the Completed event', () => {
      const seen = trainingEvents(good, 'events-train');
      return seen.some(isTerminal) && seen;
    });
    assert.deepEqual(states(events), EXPECTED_STATES);

    const arn = `arn:aws:sagemaker:${REGION}:${ACCOUNT}:training-job/events-train`;
    for (const event of events) {
      assert.equal(event.version, '0');
      assert.match(event.id, UUID);
      assert.equal(event['detail-type'], 'SageMaker Training Job State Change');
      assert.equal(event.source, 'aws.sagemaker');
      assert.equal(event.account, ACCOUNT);
      assert.equal(event.region, REGION);
      assert.match(event.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.deepEqual(event.resources, [arn]);
      assert.equal(event.detail.TrainingJobArn, arn);
      // The example's encodings: epoch-millisecond strings, Tags as a map, VpcConfig present.
      assert.match(event.detail.CreationTime!, /^\d{13}$/);
      assert.match(event.detail.LastModifiedTime!, /^\d{13}$/);
      assert.deepEqual(event.detail.Tags, { team: 'forecasting' });
      assert.deepEqual(event.detail.VpcConfig, {});
      assert.deepEqual(event.detail.HyperParameters, { sleep_ms: '0' });
    }
    assert.equal(new Set(events.map((e) => e.id)).size, events.length, 'every event has its own id');

    const completed = events.at(-1)!.detail;
    assert.match(completed.TrainingStartTime!, /^\d{13}$/);
    assert.match(completed.TrainingEndTime!, /^\d{13}$/);
    assert.equal(completed.ModelArtifacts?.S3ModelArtifacts, `s3://${BUCKET}/output/events-train/output/model.tar.gz`);
    assert.deepEqual(
      completed.SecondaryStatusTransitions!.map((t) => t.Status),
      ['Starting', 'Downloading', 'Training', 'Uploading', 'Completed'],
    );
    assert.match(completed.SecondaryStatusTransitions![0].StartTime!, /^\d{13}$/);
    assert.equal(completed.InputDataConfig![0].DataSource!.S3DataSource!.S3Uri, `s3://${BUCKET}/data/train/`);

    const headers = good.received.find((r) => r.event.id === events[0].id)!.headers;
    assert.equal(headers['x-api-key'], 'local-secret');
    assert.equal(headers['content-type'], 'application/json');
  });

  test('a target that fails with 500 gets every event by retry, in order, under the same id', async () => {
    const events = await eventually('the Completed event at the flaky target', () => {
      const seen = trainingEvents(flaky, 'events-train');
      return seen.some(isTerminal) && seen;
    });
    assert.deepEqual(states(events), EXPECTED_STATES);
    assert.deepEqual(
      events.map((e) => e.id),
      trainingEvents(good, 'events-train').map((e) => e.id),
      'a retried delivery is the same event',
    );
    assert.equal(flaky.requests(), EXPECTED_STATES.length + 2, 'two failed attempts, then one delivery per event');
  });

  test('a target that answers 400 is not retried, as an API destination does not retry it', async () => {
    await eventually('the rejections', () => rejecting.requests() >= EXPECTED_STATES.length);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(rejecting.requests(), EXPECTED_STATES.length, 'one request per event');
  });

  test('a processing job sends its own detail-type, with the example encodings', async () => {
    await client.send(
      new CreateProcessingJobCommand({
        ProcessingJobName: 'events-process',
        RoleArn: ROLE,
        AppSpecification: { ImageUri: IMAGE, ContainerArguments: ['process'] },
        ProcessingResources: { ClusterConfig: { InstanceCount: 1, InstanceType: 'ml.m5.large', VolumeSizeInGB: 10 } },
        ProcessingInputs: [
          { InputName: 'data', S3Input: { S3Uri: `s3://${BUCKET}/data/train/`, LocalPath: '/opt/ml/processing/input', S3DataType: 'S3Prefix', S3InputMode: 'File' } },
        ],
        ProcessingOutputConfig: {
          Outputs: [{ OutputName: 'out', S3Output: { S3Uri: `s3://${BUCKET}/processed`, LocalPath: '/opt/ml/processing/output', S3UploadMode: 'EndOfJob' } }],
        },
        Tags: [{ Key: 'team', Value: 'forecasting' }],
      }),
    );
    const events = await eventually('the processing Completed event', () => {
      const seen = processingEvents(good, 'events-process');
      return seen.some((e) => e.detail.ProcessingJobStatus === 'Completed') && seen;
    });
    const job = await client.send(new DescribeProcessingJobCommand({ ProcessingJobName: 'events-process' }));
    assert.deepEqual(
      events.map((e) => e.detail.ProcessingJobStatus),
      ['InProgress', 'Completed'],
    );
    const last = events.at(-1)!;
    assert.equal(last['detail-type'], 'SageMaker Processing Job State Change');
    assert.deepEqual(last.resources, [job.ProcessingJobArn]);
    assert.equal(last.detail.ProcessingJobArn, job.ProcessingJobArn);
    assert.equal(last.detail.CreationTime, job.CreationTime!.getTime(), 'epoch milliseconds as a number');
    assert.equal(typeof last.detail.ProcessingEndTime, 'number');
    assert.deepEqual(last.detail.ExperimentConfig, {});
    assert.equal(last.detail.ProcessingInputs![0].S3Input!.S3DataType, 'S3_PREFIX');
    assert.equal(last.detail.ProcessingInputs![0].S3Input!.S3DataDistributionType, 'FULLYREPLICATED');
    assert.equal(last.detail.ProcessingOutputConfig!.Outputs![0].S3Output!.S3Uri, `s3://${BUCKET}/processed`);
    assert.equal('Tags' in last.detail, false, 'the processing example has no Tags');
  });
});

describe('duplicateEvents and close', () => {
  test('duplicateEvents sends every state change twice, with different ids and the same detail', async () => {
    const target = await track(receiver());
    const { client } = await server({ eventTargets: [target.url], duplicateEvents: true });
    await runTraining(client, trainingJob('events-twice'));
    const events = await eventually('both Completed events', () => {
      const seen = trainingEvents(target, 'events-twice');
      return seen.filter(isTerminal).length === 2 && seen;
    });
    assert.equal(events.length, EXPECTED_STATES.length * 2);
    assert.equal(new Set(events.map((e) => e.id)).size, events.length, 'SageMaker duplicates are separate events');
    for (let i = 0; i < events.length; i += 2) {
      assert.deepEqual(events[i].detail, events[i + 1].detail);
      assert.equal(events[i].time, events[i + 1].time);
    }
    assert.deepEqual(
      [...new Set(states(events))],
      EXPECTED_STATES,
    );
  });

  test('close() delivers the Stopped event of a job it stops before returning', async () => {
    const target = await track(receiver());
    const { local, client } = await server({ eventTargets: [target.url] });
    await client.send(new CreateTrainingJobCommand(trainingJob('events-closed', { HyperParameters: { sleep_ms: '60000' } })));
    await eventually('Training', () => states(trainingEvents(target, 'events-closed')).includes('InProgress/Training'));
    await local.close();
    const last = trainingEvents(target, 'events-closed').at(-1)!;
    assert.equal(last.detail.TrainingJobStatus, 'Stopped');
    assert.equal(last.detail.SecondaryStatus, 'Stopped');
  });
});
