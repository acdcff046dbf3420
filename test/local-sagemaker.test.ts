// The local SageMaker against the unmodified AWS SDK clients: SageMaker's validation and error
// codes, training and processing jobs as local containers, the model registry, and endpoints with
// data capture and blue/green updates. Throwaway entry points stand in for real algorithms.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  AddTagsCommand,
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  CreateModelPackageCommand,
  CreateModelPackageGroupCommand,
  CreateProcessingJobCommand,
  CreateTrainingJobCommand,
  DeleteEndpointCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  DescribeModelPackageCommand,
  DescribeModelPackageGroupCommand,
  DescribeProcessingJobCommand,
  DescribeTrainingJobCommand,
  ListModelPackagesCommand,
  ListTagsCommand,
  ListTrainingJobsCommand,
  SageMakerClient,
  StopTrainingJobCommand,
  UpdateEndpointCommand,
  UpdateModelPackageCommand,
  type CreateTrainingJobRequest,
  type DescribeTrainingJobResponse,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { create as createTar, extract as extractTar } from 'tar';
import { LOCAL_S3_CREDENTIALS, startLocalS3, type LocalS3 } from '../local/s3';
import { startLocalSageMaker, type LocalSageMaker } from '../local/sagemaker';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const BUCKET = 'sm-test';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/SageMakerRole`;
const image = (repository: string) => `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${repository}:latest`;

// ---- Throwaway entry points: each plays one container, using only Node built-ins -----------------

const ENTRY_POINTS: Record<string, string> = {
  'train-ok.ts': `
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
const root = process.env.OPT_ML ?? '/opt/ml';
const hyperparameters = readFileSync(path.join(root, 'input/config/hyperparameters.json'), 'utf8');
console.log('args: ' + process.argv.slice(2).join(' '));
const rows = readFileSync(path.join(root, 'input/data/train/part/rows.csv'), 'utf8').trim().split('\\n').length;
const checkpoint = path.join(root, 'checkpoints', 'step.txt');
const restored = existsSync(checkpoint) ? readFileSync(checkpoint, 'utf8') : null;
for (let epoch = 1; epoch <= 3; epoch++) console.log('#quality_metric: epoch=' + epoch + ', train_loss <loss>=' + (1 / epoch).toFixed(4));
mkdirSync(path.dirname(checkpoint), { recursive: true });
writeFileSync(checkpoint, String(rows + (restored ? Number(restored) : 0)));
mkdirSync(path.join(root, 'model'), { recursive: true });
writeFileSync(path.join(root, 'model', 'model.json'), JSON.stringify({ rows, restored, hyperparameters: JSON.parse(hyperparameters), env: process.env.GREETING, channel: process.env.SM_CHANNEL_TRAIN }));
mkdirSync(path.join(root, 'output/data'), { recursive: true });
writeFileSync(path.join(root, 'output/data/summary.txt'), 'rows=' + rows);
`,
  'train-fail.ts': `
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
const root = process.env.OPT_ML ?? '/opt/ml';
mkdirSync(path.join(root, 'output'), { recursive: true });
writeFileSync(path.join(root, 'output', 'failure'), 'learning_rate must be positive, got -1');
console.error('giving up');
process.exit(2);
`,
  'train-wait.ts': `
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
const root = process.env.OPT_ML ?? '/opt/ml';
writeFileSync(path.join(root, '..', 'pid'), String(process.pid));
process.on('SIGTERM', () => {
  console.log('received SIGTERM');
  mkdirSync(path.join(root, 'model'), { recursive: true });
  writeFileSync(path.join(root, 'model', 'partial.json'), '{"saved":"on SIGTERM"}');
  process.exit(0);
});
console.log('ready');
setInterval(() => {}, 1000);
`,
  'serve.ts': `
import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
const root = process.env.OPT_ML ?? '/opt/ml';
const model = JSON.parse(readFileSync(path.join(root, 'model', 'model.json'), 'utf8'));
const role = process.argv[2];
http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/ping') { res.writeHead(200); res.end(); return; }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    if (body === 'bad') { res.writeHead(400, { 'content-type': 'text/plain' }); res.end('unparseable row'); return; }
    res.writeHead(200, { 'content-type': 'application/json', 'x-amzn-sagemaker-custom-attributes': 'echo=' + (req.headers['x-amzn-sagemaker-custom-attributes'] ?? '') });
    res.end(JSON.stringify({ version: model.version, role, accept: req.headers.accept, contentType: req.headers['content-type'], rows: body.trim().split('\\n').length }));
  });
}).listen(Number(process.env.SAGEMAKER_BIND_TO_PORT), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`,
  'serve-broken.ts': `
console.error('cannot load model');
process.exit(1);
`,
  'process.ts': `
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
const root = process.env.OPT_ML ?? '/opt/ml';
const args = process.argv.slice(2);
const input = args[args.indexOf('--input') + 1];
const output = args[args.indexOf('--output') + 1];
const rows = readdirSync(input).flatMap((f) => readFileSync(path.join(input, f), 'utf8').trim().split('\\n'));
mkdirSync(output, { recursive: true });
writeFileSync(path.join(output, 'report.json'), JSON.stringify({ rows: rows.length, threshold: process.env.THRESHOLD }));
writeFileSync(path.join(root, 'output', 'message'), 'CompletedWithViolations');
`,
};

// ---- Fixtures ------------------------------------------------------------------------------------

let workDir: string;
let s3Server: LocalS3;
let s3: S3Client;
let local: LocalSageMaker;
let sagemaker: SageMakerClient;
let runtime: SageMakerRuntimeClient;

const credentials = LOCAL_S3_CREDENTIALS;

before(async () => {
  process.env.AWS_REGION ??= REGION;
  workDir = await mkdtemp(path.join(tmpdir(), 'local-sagemaker-test-'));
  const entryDir = path.join(workDir, 'entry-points');
  await mkdir(entryDir);
  for (const [file, source] of Object.entries(ENTRY_POINTS)) await writeFile(path.join(entryDir, file), source);
  const entry = (file: string) => path.join(entryDir, file);
  s3Server = await startLocalS3({ directory: path.join(workDir, 's3'), buckets: [BUCKET] });
  s3 = new S3Client({ region: REGION, endpoint: s3Server.endpoint, credentials });
  local = await startLocalSageMaker({
    dataDir: path.join(workDir, 'sagemaker'),
    s3,
    roles: [ROLE],
    stopGraceSeconds: 2,
    captureFlushMs: 100,
    checkpointSyncMs: 200,
    images: {
      'test-algorithm': { train: entry('train-ok.ts'), serve: entry('serve.ts') },
      'test-failing': { train: entry('train-fail.ts') },
      'test-waiting': { train: entry('train-wait.ts') },
      'test-broken-server': { serve: entry('serve-broken.ts') },
      'test-processor': { process: entry('process.ts') },
    },
  });
  sagemaker = new SageMakerClient({ region: REGION, endpoint: local.endpoint, credentials });
  runtime = new SageMakerRuntimeClient({ region: REGION, endpoint: local.endpoint, credentials });
  await put('data/train/part/rows.csv', '1,2\n3,4\n5,6\n');
  await put('data/eval/a.csv', 'x\ny\n');
});

after(async () => {
  await local?.close();
  await s3Server?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

// ---- Helpers -------------------------------------------------------------------------------------

async function put(key: string, body: string | Buffer): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
}

async function listKeys(prefix: string): Promise<string[]> {
  const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (page.Contents ?? []).map((c) => c.Key!).sort();
}

async function getText(key: string): Promise<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return object.Body!.transformToString();
}

/** Downloads a model.tar.gz from S3 and returns its files' contents. */
async function readArchive(s3Uri: string): Promise<Record<string, string>> {
  const key = s3Uri.replace(`s3://${BUCKET}/`, '');
  const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  const dir = await mkdtemp(path.join(workDir, 'archive-'));
  const file = path.join(dir, 'archive.tar.gz');
  await writeFile(file, Buffer.from(await object.Body!.transformToByteArray()));
  const out = path.join(dir, 'out');
  await mkdir(out);
  await extractTar({ file, cwd: out });
  const { readdir } = await import('node:fs/promises');
  const names = await readdir(out);
  return Object.fromEntries(await Promise.all(names.map(async (n) => [n, await readFile(path.join(out, n), 'utf8')] as const)));
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const describeJob = (name: string) => sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: name }));
const finished = (job: DescribeTrainingJobResponse) => !['InProgress', 'Stopping'].includes(job.TrainingJobStatus!);

/** Asserts the SDK surfaced a service error with this code (err.name) and, optionally, message. */
async function rejectsWith(call: Promise<unknown>, code: string, message?: string | RegExp, status = 400): Promise<void> {
  await assert.rejects(call, (err: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(err.name, code);
    if (typeof message === 'string') assert.equal(err.message, message);
    else if (message) assert.match(err.message, message);
    assert.equal(err.$metadata?.httpStatusCode, status);
    return true;
  });
}

function trainingJob(name: string, overrides: Partial<CreateTrainingJobRequest> = {}): CreateTrainingJobRequest {
  return {
    TrainingJobName: name,
    RoleArn: ROLE,
    AlgorithmSpecification: { TrainingImage: image('test-algorithm'), TrainingInputMode: 'File' },
    InputDataConfig: [{ ChannelName: 'train', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${BUCKET}/data/train/` } } }],
    OutputDataConfig: { S3OutputPath: `s3://${BUCKET}/output` },
    ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 10 },
    StoppingCondition: { MaxRuntimeInSeconds: 600 },
    ...overrides,
  };
}

// ---- Tests ---------------------------------------------------------------------------------------

describe('validation, as SageMaker validates', () => {
  const create = (request: CreateTrainingJobRequest) => sagemaker.send(new CreateTrainingJobCommand(request));
  const NAME_PATTERN = '^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}';

  test('a bad name is reported with its member path and pattern', async () => {
    await rejectsWith(
      create(trainingJob('bad_name')),
      'ValidationException',
      `1 validation error detected: Value 'bad_name' at 'trainingJobName' failed to satisfy constraint: Member must satisfy regular expression pattern: ${NAME_PATTERN}`,
    );
  });

  test('every violation is reported at once, and a missing required member is null', async () => {
    const { RoleArn: _omitted, ...withoutRole } = trainingJob(`x${'y'.repeat(63)}`);
    await rejectsWith(
      create(withoutRole as CreateTrainingJobRequest),
      'ValidationException',
      `3 validation errors detected: Value 'x${'y'.repeat(63)}' at 'trainingJobName' failed to satisfy constraint: Member must have length less than or equal to 63; ` +
        `Value 'x${'y'.repeat(63)}' at 'trainingJobName' failed to satisfy constraint: Member must satisfy regular expression pattern: ${NAME_PATTERN}; ` +
        `Value null at 'roleArn' failed to satisfy constraint: Member must not be null`,
    );
  });

  test('enums and nested list members use their 1-based member paths', async () => {
    const request = trainingJob('bad-enum');
    request.InputDataConfig![0].DataSource!.S3DataSource!.S3DataType = 'Folder' as never;
    request.ResourceConfig!.InstanceType = 'm5.large' as never;
    await rejectsWith(
      create(request),
      'ValidationException',
      /^2 validation errors detected: Value 'Folder' at 'inputDataConfig\.1\.member\.dataSource\.s3DataSource\.s3DataType' failed to satisfy constraint: Member must satisfy enum value set: \[AugmentedManifestFile, Converse, ManifestFile, S3Prefix\]; Value 'm5\.large' at 'resourceConfig\.instanceType' failed to satisfy constraint: Member must satisfy enum value set: \[ml\./,
    );
  });

  test('at most 20 channels, with unique names', async () => {
    const channel = (i: number) => ({ ChannelName: `c${i}`, DataSource: { S3DataSource: { S3DataType: 'S3Prefix' as const, S3Uri: `s3://${BUCKET}/data/train/` } } });
    await rejectsWith(
      create(trainingJob('too-many', { InputDataConfig: Array.from({ length: 21 }, (_, i) => channel(i)) })),
      'ValidationException',
      /^1 validation error detected: Value '.*' at 'inputDataConfig' failed to satisfy constraint: Member must have length less than or equal to 20$/,
    );
    await rejectsWith(create(trainingJob('dup-channels', { InputDataConfig: [channel(1), channel(1)] })), 'ValidationException', /Channel names must be unique/);
  });

  test('managed spot needs MaxWaitTimeInSeconds of at least MaxRuntimeInSeconds, and only spot may set it', async () => {
    const spotMessage = 'Invalid MaxWaitTimeInSeconds. It must be present and be greater than or equal to MaxRuntimeInSeconds';
    await rejectsWith(create(trainingJob('spot-1', { EnableManagedSpotTraining: true })), 'ValidationException', spotMessage);
    await rejectsWith(
      create(trainingJob('spot-2', { EnableManagedSpotTraining: true, StoppingCondition: { MaxRuntimeInSeconds: 600, MaxWaitTimeInSeconds: 300 } })),
      'ValidationException',
      spotMessage,
    );
    await rejectsWith(
      create(trainingJob('spot-3', { StoppingCondition: { MaxRuntimeInSeconds: 600, MaxWaitTimeInSeconds: 900 } })),
      'ValidationException',
      'Invalid MaxWaitTimeInSeconds. It is only supported when EnableManagedSpotTraining is set to true',
    );
    await rejectsWith(
      create(trainingJob('spot-4', { CheckpointConfig: {} as never })),
      'ValidationException',
      "1 validation error detected: Value null at 'checkpointConfig.s3Uri' failed to satisfy constraint: Member must not be null",
    );
  });

  test('a role that does not exist cannot be assumed', async () => {
    const role = `arn:aws:iam::${ACCOUNT}:role/Missing`;
    await rejectsWith(
      create(trainingJob('bad-role', { RoleArn: role })),
      'ValidationException',
      `Could not assume role ${role}. Please ensure that the role exists and allows principal 'sagemaker.amazonaws.com' to assume the role.`,
    );
  });

  test('an image whose repository does not exist cannot be pulled', async () => {
    await rejectsWith(
      create(trainingJob('bad-image', { AlgorithmSpecification: { TrainingImage: image('no-such-algorithm'), TrainingInputMode: 'File' } })),
      'ValidationException',
      `Cannot find repository: no-such-algorithm in registry ID: ${ACCOUNT} Please check if your ECR repository exists and role ${ROLE} has proper pull permissions for SageMaker: ecr:BatchCheckLayerAvailability, ecr:BatchGetImage, ecr:GetDownloadUrlForLayer`,
    );
  });
});

describe('errors for things that do not exist', () => {
  test('each Describe answers with the code and text SageMaker uses', async () => {
    await rejectsWith(describeJob('missing'), 'ValidationException', 'Requested resource not found.');
    await rejectsWith(sagemaker.send(new DescribeProcessingJobCommand({ ProcessingJobName: 'missing' })), 'ValidationException', 'Could not find requested job with name missing');
    await rejectsWith(
      sagemaker.send(new DescribeModelCommand({ ModelName: 'Missing' })),
      'ValidationException',
      `Could not find model "arn:aws:sagemaker:${REGION}:${ACCOUNT}:model/missing".`,
    );
    await rejectsWith(
      sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: 'missing' })),
      'ValidationException',
      `Could not find endpoint configuration "arn:aws:sagemaker:${REGION}:${ACCOUNT}:endpoint-config/missing".`,
    );
    await rejectsWith(
      sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'missing' })),
      'ValidationException',
      `Could not find endpoint "arn:aws:sagemaker:${REGION}:${ACCOUNT}:endpoint/missing".`,
    );
    await rejectsWith(
      sagemaker.send(new DescribeModelPackageGroupCommand({ ModelPackageGroupName: 'missing' })),
      'ValidationException',
      `ModelPackageGroup arn:aws:sagemaker:${REGION}:${ACCOUNT}:model-package-group/missing does not exist.`,
    );
    await rejectsWith(
      sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: 'missing/1' })),
      'ValidationException',
      `ModelPackage arn:aws:sagemaker:${REGION}:${ACCOUNT}:model-package/missing/1 does not exist.`,
    );
  });

  test('the runtime answers a missing endpoint with ValidationError', async () => {
    await rejectsWith(
      runtime.send(new InvokeEndpointCommand({ EndpointName: 'missing', Body: Buffer.from('1'), ContentType: 'text/csv' })),
      'ValidationError',
      `Endpoint missing of account ${ACCOUNT} not found.`,
    );
  });

  test('unknown operations and unsigned requests are refused', async () => {
    const call = (headers: Record<string, string>) =>
      fetch(local.endpoint, { method: 'POST', headers: { 'Content-Type': 'application/x-amz-json-1.1', ...headers }, body: '{}' });
    const unknown = await call({ 'X-Amz-Target': 'SageMaker.CreateTimeMachine', Authorization: 'AWS4-HMAC-SHA256 Credential=x' });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.headers.get('x-amzn-errortype'), 'UnknownOperationException');
    assert.equal(((await unknown.json()) as { __type: string }).__type, 'UnknownOperationException');
    const unsigned = await call({ 'X-Amz-Target': 'SageMaker.ListTrainingJobs' });
    assert.equal(unsigned.status, 403);
    assert.equal(unsigned.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
  });
});

describe('training jobs', () => {
  test('a job runs end to end: config files, channels, metrics, artifacts, checkpoints and recorded settings', async () => {
    const request = trainingJob('end-to-end', {
      HyperParameters: { epochs: '3', learning_rate: '0.1' },
      AlgorithmSpecification: {
        TrainingImage: image('test-algorithm'),
        TrainingInputMode: 'File',
        MetricDefinitions: [{ Name: 'train:loss', Regex: 'train_loss <loss>=([0-9.]+)' }],
      },
      OutputDataConfig: { S3OutputPath: `s3://${BUCKET}/output`, KmsKeyId: 'alias/training' },
      ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 10, VolumeKmsKeyId: 'alias/volume' },
      CheckpointConfig: { S3Uri: `s3://${BUCKET}/checkpoints/run-1` },
      VpcConfig: { SecurityGroupIds: ['sg-123'], Subnets: ['subnet-456'] },
      EnableNetworkIsolation: true,
      Environment: { GREETING: 'hello' },
      RetryStrategy: { MaximumRetryAttempts: 2 },
      Tags: [{ Key: 'team', Value: 'ml' }],
    });
    const { TrainingJobArn } = await sagemaker.send(new CreateTrainingJobCommand(request));
    assert.equal(TrainingJobArn, `arn:aws:sagemaker:${REGION}:${ACCOUNT}:training-job/end-to-end`);
    const job = await until(() => describeJob('end-to-end'), finished, 'training to finish');

    assert.equal(job.TrainingJobStatus, 'Completed', job.FailureReason);
    assert.equal(job.SecondaryStatus, 'Completed');
    assert.deepEqual(
      job.SecondaryStatusTransitions!.map((t) => t.Status),
      ['Starting', 'Downloading', 'Training', 'Uploading', 'Completed'],
    );
    assert.ok(job.SecondaryStatusTransitions!.every((t) => t.StartTime instanceof Date && t.EndTime instanceof Date && t.StatusMessage));
    assert.ok(job.CreationTime! <= job.TrainingStartTime! && job.TrainingStartTime! <= job.TrainingEndTime!);
    assert.ok(job.TrainingTimeInSeconds! >= 1 && job.BillableTimeInSeconds === job.TrainingTimeInSeconds);
    assert.deepEqual(
      job.FinalMetricDataList!.map(({ MetricName, Value }) => ({ MetricName, Value })),
      [{ MetricName: 'train:loss', Value: 0.3333 }],
    );
    assert.ok(job.FinalMetricDataList![0].Timestamp instanceof Date);

    // Settings that change nothing locally are still recorded, as Describe returns them.
    assert.deepEqual(job.VpcConfig, request.VpcConfig);
    assert.equal(job.EnableNetworkIsolation, true);
    assert.equal(job.EnableManagedSpotTraining, false);
    assert.equal(job.OutputDataConfig!.KmsKeyId, 'alias/training');
    assert.equal(job.ResourceConfig!.VolumeKmsKeyId, 'alias/volume');
    assert.deepEqual(job.Environment, { GREETING: 'hello' });
    assert.deepEqual(job.RetryStrategy, { MaximumRetryAttempts: 2 });
    assert.deepEqual(job.CheckpointConfig, request.CheckpointConfig);
    assert.deepEqual(job.InputDataConfig![0], {
      ...request.InputDataConfig![0],
      DataSource: { S3DataSource: { ...request.InputDataConfig![0].DataSource!.S3DataSource, S3DataDistributionType: 'FullyReplicated' } },
      CompressionType: 'None',
      RecordWrapperType: 'None',
    });
    const { Tags } = await sagemaker.send(new ListTagsCommand({ ResourceArn: TrainingJobArn }));
    assert.deepEqual(Tags, [{ Key: 'team', Value: 'ml' }]);

    // The artifacts land where SageMaker puts them, and the model saw the container contract.
    assert.equal(job.ModelArtifacts!.S3ModelArtifacts, `s3://${BUCKET}/output/end-to-end/output/model.tar.gz`);
    assert.deepEqual(await listKeys('output/end-to-end/'), ['output/end-to-end/output/model.tar.gz', 'output/end-to-end/output/output.tar.gz']);
    const model = JSON.parse((await readArchive(job.ModelArtifacts!.S3ModelArtifacts!))['model.json']);
    assert.deepEqual(model.hyperparameters, { epochs: '3', learning_rate: '0.1' });
    assert.equal(model.rows, 3, 'the channel kept the key path relative to the prefix');
    assert.equal(model.restored, null);
    assert.equal(model.env, 'hello');
    assert.match(model.channel, /training\/end-to-end\/opt_ml\/input\/data\/train$/);
    assert.deepEqual(await readArchive(`s3://${BUCKET}/output/end-to-end/output/output.tar.gz`), { 'summary.txt': 'rows=3' });
    assert.equal(await getText('checkpoints/run-1/step.txt'), '3');

    // Every line the container printed is in the job's log.
    const log = await readFile(path.join(workDir, 'sagemaker', 'logs', 'end-to-end.log'), 'utf8');
    assert.match(log, /^args: train$/m);
    assert.match(log, /train_loss <loss>=0\.3333/);

    // A second job with the same checkpoint S3Uri starts from the first job's checkpoints.
    await sagemaker.send(new CreateTrainingJobCommand(trainingJob('resumed', { CheckpointConfig: { S3Uri: `s3://${BUCKET}/checkpoints/run-1` } })));
    const resumed = await until(() => describeJob('resumed'), finished, 'the resumed job');
    assert.equal(resumed.TrainingJobStatus, 'Completed', resumed.FailureReason);
    assert.equal(JSON.parse((await readArchive(resumed.ModelArtifacts!.S3ModelArtifacts!))['model.json']).restored, '3');
    assert.equal(await getText('checkpoints/run-1/step.txt'), '6');

    // Names are unique, and a finished job cannot be stopped.
    await rejectsWith(
      sagemaker.send(new CreateTrainingJobCommand(trainingJob('end-to-end'))),
      'ResourceInUse',
      `Training job names must be unique within an AWS account and region, and a training job with this name already exists (${TrainingJobArn})`,
    );
    await rejectsWith(
      sagemaker.send(new StopTrainingJobCommand({ TrainingJobName: 'end-to-end' })),
      'ValidationException',
      'The request was rejected because the training job is in status Completed.',
    );
  });

  test('ListTrainingJobs filters, sorts and pages', async () => {
    const first = await sagemaker.send(new ListTrainingJobsCommand({ NameContains: 'e', StatusEquals: 'Completed', SortBy: 'Name', SortOrder: 'Descending', MaxResults: 1 }));
    assert.deepEqual(first.TrainingJobSummaries!.map((s) => s.TrainingJobName), ['resumed']);
    assert.ok(first.NextToken);
    const second = await sagemaker.send(new ListTrainingJobsCommand({ NameContains: 'e', StatusEquals: 'Completed', SortBy: 'Name', SortOrder: 'Descending', NextToken: first.NextToken }));
    assert.deepEqual(second.TrainingJobSummaries!.map((s) => s.TrainingJobName), ['end-to-end']);
    assert.equal(second.NextToken, undefined);
  });

  test('StopTrainingJob sends SIGTERM, keeps what the algorithm saved, and ends Stopped', async () => {
    await sagemaker.send(new CreateTrainingJobCommand(trainingJob('to-stop', { AlgorithmSpecification: { TrainingImage: image('test-waiting'), TrainingInputMode: 'File' } })));
    const logFile = path.join(workDir, 'sagemaker', 'logs', 'to-stop.log');
    await until(async () => (existsSync(logFile) ? readFile(logFile, 'utf8') : ''), (log) => log.includes('ready'), 'the algorithm to start');
    await sagemaker.send(new StopTrainingJobCommand({ TrainingJobName: 'to-stop' }));
    const stopping = await describeJob('to-stop');
    assert.equal(stopping.TrainingJobStatus, 'Stopping');
    const job = await until(() => describeJob('to-stop'), finished, 'the stop');
    assert.equal(job.TrainingJobStatus, 'Stopped');
    assert.equal(job.SecondaryStatus, 'Stopped');
    assert.match(await readFile(logFile, 'utf8'), /received SIGTERM/);
    assert.deepEqual(await readArchive(job.ModelArtifacts!.S3ModelArtifacts!), { 'partial.json': '{"saved":"on SIGTERM"}' });
  });

  test('MaxRuntimeInSeconds stops the job as Stopped / MaxRuntimeExceeded', async () => {
    await sagemaker.send(
      new CreateTrainingJobCommand(
        trainingJob('too-slow', { AlgorithmSpecification: { TrainingImage: image('test-waiting'), TrainingInputMode: 'File' }, StoppingCondition: { MaxRuntimeInSeconds: 1 } }),
      ),
    );
    const job = await until(() => describeJob('too-slow'), finished, 'the runtime limit');
    assert.equal(job.TrainingJobStatus, 'Stopped');
    assert.equal(job.SecondaryStatus, 'MaxRuntimeExceeded');
    const statuses = job.SecondaryStatusTransitions!.map((t) => t.Status);
    assert.ok(statuses.includes('Stopping'));
    assert.equal(statuses.at(-1), 'MaxRuntimeExceeded');
  });

  test('managed spot: MaxWaitTimeInSeconds, counted from creation, ends the job Stopped / MaxWaitTimeExceeded', async () => {
    await sagemaker.send(
      new CreateTrainingJobCommand(
        trainingJob('spot-wait', {
          AlgorithmSpecification: { TrainingImage: image('test-waiting'), TrainingInputMode: 'File' },
          EnableManagedSpotTraining: true,
          StoppingCondition: { MaxRuntimeInSeconds: 1, MaxWaitTimeInSeconds: 1 },
        }),
      ),
    );
    const job = await until(() => describeJob('spot-wait'), finished, 'the wait limit');
    assert.equal(job.TrainingJobStatus, 'Stopped');
    assert.equal(job.SecondaryStatus, 'MaxWaitTimeExceeded');
    assert.equal(job.EnableManagedSpotTraining, true);
  });

  test('a failing algorithm ends Failed with the reason it wrote to /opt/ml/output/failure', async () => {
    await sagemaker.send(new CreateTrainingJobCommand(trainingJob('failing', { AlgorithmSpecification: { TrainingImage: image('test-failing'), TrainingInputMode: 'File' } })));
    const job = await until(() => describeJob('failing'), finished, 'the failure');
    assert.equal(job.TrainingJobStatus, 'Failed');
    assert.equal(job.SecondaryStatus, 'Failed');
    assert.equal(job.FailureReason, 'AlgorithmError: learning_rate must be positive, got -1');
    assert.equal(job.ModelArtifacts, undefined);
  });

  test('missing input data fails the job with a ClientError', async () => {
    await sagemaker.send(
      new CreateTrainingJobCommand(
        trainingJob('no-data', {
          InputDataConfig: [{ ChannelName: 'train', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${BUCKET}/nothing-here/` } } }],
        }),
      ),
    );
    const job = await until(() => describeJob('no-data'), finished, 'the failure');
    assert.equal(job.TrainingJobStatus, 'Failed');
    assert.match(job.FailureReason!, /^ClientError: No S3 objects found under S3 URL "s3:\/\/sm-test\/nothing-here\/"/);
  });
});

test('quota, throttling and AWS_ENDPOINT_URL_SAGEMAKER on a second server', async () => {
  const dataDir = path.join(workDir, 'quota');
  const small = await startLocalSageMaker({
    dataDir,
    s3,
    trainingInstanceQuota: 1,
    controlPlaneRateLimit: 5,
    stopGraceSeconds: 30,
    images: { 'test-waiting': { train: path.join(workDir, 'entry-points', 'train-wait.ts') } },
  });
  const saved = process.env.AWS_ENDPOINT_URL_SAGEMAKER;
  process.env.AWS_ENDPOINT_URL_SAGEMAKER = small.endpoint;
  let pid: number | undefined;
  try {
    // No endpoint option: the client finds the server through the standard variable.
    const client = new SageMakerClient({ region: REGION, credentials, maxAttempts: 1 });
    const waiting = { AlgorithmSpecification: { TrainingImage: image('test-waiting'), TrainingInputMode: 'File' as const } };
    await client.send(new CreateTrainingJobCommand(trainingJob('holds-the-quota', waiting)));
    await rejectsWith(
      client.send(new CreateTrainingJobCommand(trainingJob('over-quota', waiting))),
      'ResourceLimitExceeded',
      /^The account-level service limit 'Number of instances across all training jobs' is 1 Instances, with current utilization of 1 Instances and a request delta of 1 Instances\./,
    );
    const pidFile = path.join(dataDir, 'training', 'holds-the-quota', 'pid');
    pid = Number(await until(async () => (existsSync(pidFile) ? readFile(pidFile, 'utf8') : ''), Boolean, 'the container to start'));

    await new Promise((resolve) => setTimeout(resolve, 1000));
    const burst = await Promise.allSettled(Array.from({ length: 8 }, () => client.send(new ListTrainingJobsCommand({}))));
    const throttled = burst.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as Error);
    assert.equal(throttled.length, 3);
    assert.ok(throttled.every((err) => err.name === 'ThrottlingException' && err.message === 'Rate exceeded'));
  } finally {
    if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_SAGEMAKER;
    else process.env.AWS_ENDPOINT_URL_SAGEMAKER = saved;
    await small.close();
  }
  // close() stops the containers it started, without waiting out a long SIGTERM grace.
  assert.throws(() => process.kill(pid!, 0), { code: 'ESRCH' });
});

describe('model registry', () => {
  const group = 'churn-models';
  const spec = (version: number) => ({
    Containers: [{ Image: image('test-algorithm'), ModelDataUrl: `s3://${BUCKET}/models/v${version}/model.tar.gz` }],
    SupportedContentTypes: ['text/csv'],
    SupportedResponseMIMETypes: ['application/json'],
  });

  test('packages are numbered versions in their group, and a ClientToken makes create idempotent', async () => {
    const { ModelPackageGroupArn } = await sagemaker.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: group, ModelPackageGroupDescription: 'churn' }));
    assert.equal(ModelPackageGroupArn, `arn:aws:sagemaker:${REGION}:${ACCOUNT}:model-package-group/${group}`);
    await rejectsWith(
      sagemaker.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: group })),
      'ValidationException',
      `Model Package Group already exists: ${ModelPackageGroupArn}`,
    );
    const described = await sagemaker.send(new DescribeModelPackageGroupCommand({ ModelPackageGroupName: ModelPackageGroupArn }));
    assert.equal(described.ModelPackageGroupStatus, 'Completed');

    const first = await sagemaker.send(new CreateModelPackageCommand({ ModelPackageGroupName: group, InferenceSpecification: spec(1), ClientToken: 'token-1' }));
    const retried = await sagemaker.send(new CreateModelPackageCommand({ ModelPackageGroupName: group, InferenceSpecification: spec(1), ClientToken: 'token-1' }));
    const second = await sagemaker.send(
      new CreateModelPackageCommand({ ModelPackageGroupName: group, InferenceSpecification: spec(2), ClientToken: 'token-2', CustomerMetadataProperties: { dataset: 'v2' } }),
    );
    assert.equal(first.ModelPackageArn, `arn:aws:sagemaker:${REGION}:${ACCOUNT}:model-package/${group}/1`);
    assert.equal(retried.ModelPackageArn, first.ModelPackageArn);
    assert.equal(second.ModelPackageArn, `arn:aws:sagemaker:${REGION}:${ACCOUNT}:model-package/${group}/2`);

    const byName = await sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: `${group}/2` }));
    assert.equal(byName.ModelPackageVersion, 2);
    assert.equal(byName.ModelPackageGroupName, group);
    assert.equal(byName.ModelApprovalStatus, 'PendingManualApproval');
    assert.deepEqual(byName.InferenceSpecification, spec(2));
    assert.ok(byName.CreationTime instanceof Date);

    await sagemaker.send(
      new UpdateModelPackageCommand({
        ModelPackageArn: second.ModelPackageArn,
        ModelApprovalStatus: 'Approved',
        ApprovalDescription: 'beats the champion',
        CustomerMetadataProperties: { gate: 'passed' },
      }),
    );
    const approved = await sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: second.ModelPackageArn }));
    assert.equal(approved.ModelApprovalStatus, 'Approved');
    assert.equal(approved.ApprovalDescription, 'beats the champion');
    assert.deepEqual(approved.CustomerMetadataProperties, { dataset: 'v2', gate: 'passed' });
    assert.ok(approved.LastModifiedTime! >= approved.CreationTime!);

    const newestFirst = await sagemaker.send(new ListModelPackagesCommand({ ModelPackageGroupName: group, SortBy: 'CreationTime', SortOrder: 'Descending' }));
    assert.deepEqual(newestFirst.ModelPackageSummaryList!.map((p) => p.ModelPackageVersion), [2, 1]);
    const approvedOnly = await sagemaker.send(new ListModelPackagesCommand({ ModelPackageGroupName: group, ModelApprovalStatus: 'Approved' }));
    assert.deepEqual(approvedOnly.ModelPackageSummaryList!.map((p) => p.ModelPackageArn), [second.ModelPackageArn]);

    await rejectsWith(
      sagemaker.send(new CreateModelPackageCommand({ ModelPackageGroupName: 'no-such-group', InferenceSpecification: spec(1) })),
      'ValidationException',
      `ModelPackageGroup arn:aws:sagemaker:${REGION}:${ACCOUNT}:model-package-group/no-such-group does not exist.`,
    );
  });
});

describe('hosting', () => {
  async function uploadModel(version: number): Promise<string> {
    const dir = path.join(workDir, `model-v${version}`);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'model.json'), JSON.stringify({ version }));
    const archive = path.join(workDir, `model-v${version}.tar.gz`);
    await createTar({ gzip: true, file: archive, cwd: dir }, ['model.json']);
    await put(`models/v${version}/model.tar.gz`, await readFile(archive));
    return `s3://${BUCKET}/models/v${version}/model.tar.gz`;
  }

  const endpointConfig = (name: string, model: string, capture: { csvJson: boolean }) =>
    new CreateEndpointConfigCommand({
      EndpointConfigName: name,
      ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: model, InitialInstanceCount: 1, InstanceType: 'ml.m5.large' }],
      DataCaptureConfig: {
        EnableCapture: true,
        InitialSamplingPercentage: 100,
        DestinationS3Uri: `s3://${BUCKET}/capture`,
        CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
        ...(capture.csvJson ? { CaptureContentTypeHeader: { CsvContentTypes: ['text/csv'], JsonContentTypes: ['application/json'] } } : {}),
      },
    });

  const describeEndpoint = () => sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'churn' }));
  const settled = (e: { EndpointStatus?: string }) => !['Creating', 'Updating', 'Deleting'].includes(e.EndpointStatus!);
  const invoke = (body: string) =>
    runtime.send(
      new InvokeEndpointCommand({ EndpointName: 'churn', Body: Buffer.from(body), ContentType: 'text/csv', Accept: 'application/json', CustomAttributes: 'trace=1', InferenceId: 'inference-1' }),
    );
  const answer = async (body: string) => JSON.parse(Buffer.from((await invoke(body)).Body).toString('utf8'));

  interface CaptureLine {
    captureData: Record<string, { observedContentType: string; mode: string; data: string; encoding: string }>;
    eventMetadata: { eventId: string; inferenceTime: string; inferenceId?: string };
    eventVersion: string;
  }
  async function capturedLines(): Promise<{ keys: string[]; lines: CaptureLine[] }> {
    const keys = await listKeys('capture/churn/');
    const lines = (await Promise.all(keys.map(getText))).flatMap((text) => text.trim().split('\n')).map((l) => JSON.parse(l) as CaptureLine);
    return { keys, lines };
  }

  test('models check their image and model data; configs check their models', async () => {
    const v1 = await uploadModel(1);
    await rejectsWith(
      sagemaker.send(new CreateModelCommand({ ModelName: 'no-data', ExecutionRoleArn: ROLE, PrimaryContainer: { Image: image('test-algorithm'), ModelDataUrl: `s3://${BUCKET}/models/none/model.tar.gz` } })),
      'ValidationException',
      `Could not find model data at s3://${BUCKET}/models/none/model.tar.gz.`,
    );
    await rejectsWith(
      sagemaker.send(new CreateModelCommand({ ModelName: 'no-image', ExecutionRoleArn: ROLE, PrimaryContainer: { Image: image('nothing'), ModelDataUrl: v1 } })),
      'ValidationException',
      `Requested image ${image('nothing')} not found.`,
    );
    const { ModelArn } = await sagemaker.send(new CreateModelCommand({ ModelName: 'churn-v1', ExecutionRoleArn: ROLE, PrimaryContainer: { Image: image('test-algorithm'), ModelDataUrl: v1 } }));
    await rejectsWith(
      sagemaker.send(new CreateModelCommand({ ModelName: 'churn-v1', ExecutionRoleArn: ROLE, PrimaryContainer: { Image: image('test-algorithm'), ModelDataUrl: v1 } })),
      'ValidationException',
      `Cannot create already existing model "${ModelArn}".`,
    );
    await rejectsWith(
      sagemaker.send(endpointConfig('orphan', 'no-such-model', { csvJson: true })),
      'ValidationException',
      `Could not find model "arn:aws:sagemaker:${REGION}:${ACCOUNT}:model/no-such-model".`,
    );
  });

  test('an endpoint serves, captures in Model Monitor format, updates blue/green and rolls back a failed update', async () => {
    await sagemaker.send(endpointConfig('churn-config-1', 'churn-v1', { csvJson: true }));
    await sagemaker.send(new CreateEndpointCommand({ EndpointName: 'churn', EndpointConfigName: 'churn-config-1' }));
    assert.equal((await describeEndpoint()).EndpointStatus, 'Creating');
    const created = await until(describeEndpoint, settled, 'the endpoint');
    assert.equal(created.EndpointStatus, 'InService', created.FailureReason);
    assert.equal(created.ProductionVariants![0].DeployedImages![0].SpecifiedImage, image('test-algorithm'));
    assert.equal(created.DataCaptureConfig!.CaptureStatus, 'Started');

    const response = await invoke('1,2\n3,4\n');
    assert.equal(response.ContentType, 'application/json');
    assert.equal(response.InvokedProductionVariant, 'AllTraffic');
    assert.equal(response.CustomAttributes, 'echo=trace=1');
    assert.deepEqual(JSON.parse(Buffer.from(response.Body).toString('utf8')), { version: 1, role: 'serve', accept: 'application/json', contentType: 'text/csv', rows: 2 });
    await rejectsWith(invoke('bad'), 'ModelError', /^Received client error \(400\) from primary with message "unparseable row"\./, 424);

    // The capture file appears under {destination}/{endpoint}/{variant}/yyyy/mm/dd/hh/.
    const captured = await until(capturedLines, ({ lines }) => lines.length >= 1, 'captured data');
    assert.match(captured.keys[0], /^capture\/churn\/AllTraffic\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/\d{2}-\d{2}-\d{3}-[0-9a-f-]{36}\.jsonl$/);
    const [line] = captured.lines;
    assert.deepEqual(line.captureData.endpointInput, { observedContentType: 'text/csv', mode: 'INPUT', data: '1,2\n3,4\n', encoding: 'CSV' });
    assert.equal(line.captureData.endpointOutput.mode, 'OUTPUT');
    assert.equal(line.captureData.endpointOutput.encoding, 'JSON');
    assert.equal(JSON.parse(line.captureData.endpointOutput.data).version, 1);
    assert.equal(line.eventVersion, '0');
    assert.equal(line.eventMetadata.inferenceId, 'inference-1');
    assert.match(line.eventMetadata.eventId, /^[0-9a-f-]{36}$/);
    assert.match(line.eventMetadata.inferenceTime, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    const hour = line.eventMetadata.inferenceTime.slice(0, 13).replace(/-/g, '/').replace('T', '/');
    assert.ok(captured.keys[0].startsWith(`capture/churn/AllTraffic/${hour}/`), 'the key is the hour of the inference');

    // Blue/green: version 1 keeps serving until version 2 answers /ping.
    await sagemaker.send(
      new CreateModelPackageCommand({
        ModelPackageGroupName: 'churn-models',
        InferenceSpecification: { Containers: [{ Image: image('test-algorithm'), ModelDataUrl: await uploadModel(2) }], SupportedContentTypes: ['text/csv'], SupportedResponseMIMETypes: ['application/json'] },
      }),
    );
    await sagemaker.send(new CreateModelCommand({ ModelName: 'churn-v2', ExecutionRoleArn: ROLE, PrimaryContainer: { ModelPackageName: 'churn-models/3' } }));
    await sagemaker.send(endpointConfig('churn-config-2', 'churn-v2', { csvJson: false }));
    const deploymentConfig = {
      BlueGreenUpdatePolicy: { TrafficRoutingConfiguration: { Type: 'ALL_AT_ONCE' as const, WaitIntervalInSeconds: 0 }, TerminationWaitInSeconds: 0 },
      AutoRollbackConfiguration: { Alarms: [{ AlarmName: 'churn-errors' }] },
    };
    await sagemaker.send(new UpdateEndpointCommand({ EndpointName: 'churn', EndpointConfigName: 'churn-config-2', DeploymentConfig: deploymentConfig }));
    const updating = await describeEndpoint();
    assert.equal(updating.EndpointStatus, 'Updating');
    assert.equal(updating.EndpointConfigName, 'churn-config-1');
    assert.equal((await answer('1,2')).version, 1);
    await rejectsWith(
      sagemaker.send(new UpdateEndpointCommand({ EndpointName: 'churn', EndpointConfigName: 'churn-config-2' })),
      'ValidationException',
      `Cannot update in-progress endpoint "arn:aws:sagemaker:${REGION}:${ACCOUNT}:endpoint/churn".`,
    );
    const updated = await until(describeEndpoint, settled, 'the update');
    assert.equal(updated.EndpointStatus, 'InService');
    assert.equal(updated.EndpointConfigName, 'churn-config-2');
    assert.equal(updated.FailureReason, undefined);
    assert.deepEqual(updated.LastDeploymentConfig, deploymentConfig);
    assert.equal((await answer('1,2')).version, 2);

    // Without capture content-type headers the payloads are base64.
    const base64 = await until(capturedLines, ({ lines }) => lines.some((l) => l.captureData.endpointInput.encoding === 'BASE64'), 'base64 capture');
    const encoded = base64.lines.find((l) => l.captureData.endpointInput.encoding === 'BASE64')!;
    assert.equal(Buffer.from(encoded.captureData.endpointInput.data, 'base64').toString('utf8'), '1,2');

    // A rollout whose containers never answer /ping leaves version 2 serving.
    await sagemaker.send(new CreateModelCommand({ ModelName: 'churn-broken', ExecutionRoleArn: ROLE, PrimaryContainer: { Image: image('test-broken-server') } }));
    await sagemaker.send(endpointConfig('churn-config-3', 'churn-broken', { csvJson: true }));
    await sagemaker.send(new UpdateEndpointCommand({ EndpointName: 'churn', EndpointConfigName: 'churn-config-3' }));
    const rolledBack = await until(describeEndpoint, settled, 'the failed update');
    assert.equal(rolledBack.EndpointStatus, 'InService');
    assert.equal(rolledBack.EndpointConfigName, 'churn-config-2');
    assert.equal(
      rolledBack.FailureReason,
      'The primary container for production variant AllTraffic did not pass the ping health check. Please check CloudWatch logs for this endpoint.',
    );
    assert.equal((await answer('1,2')).version, 2);

    await sagemaker.send(new AddTagsCommand({ ResourceArn: rolledBack.EndpointArn, Tags: [{ Key: 'stage', Value: 'test' }] }));
    assert.deepEqual((await sagemaker.send(new ListTagsCommand({ ResourceArn: rolledBack.EndpointArn }))).Tags, [{ Key: 'stage', Value: 'test' }]);

    await sagemaker.send(new DeleteEndpointCommand({ EndpointName: 'churn' }));
    await until(
      () => describeEndpoint().then(() => 'exists', (err: Error) => err.name),
      (state) => state === 'ValidationException',
      'the endpoint to go',
    );
    await rejectsWith(invoke('1,2'), 'ValidationError', `Endpoint churn of account ${ACCOUNT} not found.`);
  });
});

test('a processing job downloads inputs, translates /opt/ml arguments, uploads outputs and keeps its exit message', async () => {
  const { ProcessingJobArn } = await sagemaker.send(
    new CreateProcessingJobCommand({
      ProcessingJobName: 'evaluate',
      RoleArn: ROLE,
      AppSpecification: { ImageUri: image('test-processor'), ContainerArguments: ['--input', '/opt/ml/processing/input/eval', '--output', '/opt/ml/processing/report'] },
      ProcessingResources: { ClusterConfig: { InstanceCount: 1, InstanceType: 'ml.m5.large', VolumeSizeInGB: 5 } },
      ProcessingInputs: [{ InputName: 'eval', S3Input: { S3Uri: `s3://${BUCKET}/data/eval/`, LocalPath: '/opt/ml/processing/input/eval', S3DataType: 'S3Prefix' } }],
      ProcessingOutputConfig: { Outputs: [{ OutputName: 'report', S3Output: { S3Uri: `s3://${BUCKET}/reports/evaluate`, LocalPath: '/opt/ml/processing/report', S3UploadMode: 'EndOfJob' } }] },
      Environment: { THRESHOLD: '0.5' },
      StoppingCondition: { MaxRuntimeInSeconds: 300 },
    }),
  );
  assert.equal(ProcessingJobArn, `arn:aws:sagemaker:${REGION}:${ACCOUNT}:processing-job/evaluate`);
  const job = await until(
    () => sagemaker.send(new DescribeProcessingJobCommand({ ProcessingJobName: 'evaluate' })),
    (j) => !['InProgress', 'Stopping'].includes(j.ProcessingJobStatus!),
    'processing',
  );
  assert.equal(job.ProcessingJobStatus, 'Completed', job.FailureReason);
  assert.equal(job.ExitMessage, 'CompletedWithViolations');
  assert.equal(job.ProcessingInputs![0].S3Input!.S3InputMode, 'File');
  assert.deepEqual(JSON.parse(await getText('reports/evaluate/report.json')), { rows: 2, threshold: '0.5' });
  const config = JSON.parse(await readFile(path.join(workDir, 'sagemaker', 'processing', 'evaluate', 'opt_ml', 'config', 'processingjobconfig.json'), 'utf8'));
  assert.equal(config.ProcessingJobArn, ProcessingJobArn);
  await rejectsWith(
    sagemaker.send(
      new CreateProcessingJobCommand({
        ProcessingJobName: 'bad-path',
        RoleArn: ROLE,
        AppSpecification: { ImageUri: image('test-processor') },
        ProcessingResources: { ClusterConfig: { InstanceCount: 1, InstanceType: 'ml.m5.large', VolumeSizeInGB: 5 } },
        ProcessingInputs: [{ InputName: 'eval', S3Input: { S3Uri: `s3://${BUCKET}/data/eval/`, LocalPath: '/data/eval', S3DataType: 'S3Prefix' } }],
      }),
    ),
    'ValidationException',
    /must begin with \/opt\/ml\/processing\//,
  );
});
