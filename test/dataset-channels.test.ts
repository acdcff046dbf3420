// Channel formats end to end: a dataset version's channels, built as the training stage builds them,
// go to the local SageMaker, and a probe algorithm reports what reached it: File mode directories
// (S3Prefix, ManifestFile), Pipe mode FIFOs per epoch (gzip, RecordIO, augmented manifests with
// AttributeNames), and CreateTrainingJob's validation of the combinations SageMaker refuses.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTrainingJobCommand, DescribeTrainingJobCommand, SageMakerClient, type Channel, type CreateTrainingJobRequest } from '@aws-sdk/client-sagemaker';
import { x as extractTar } from 'tar';
import { mergeDatasetVersion } from '../activities/dataset';
import { parsePipelineConfig, type PipelineConfigInput } from '../domain/config';
import { AUGMENTED_ATTRIBUTES, channelSourceFor, trainingChannel } from '../domain/dataset-merge/channels';
import type { DatasetVersionManifest } from '../domain/dataset-merge/manifest';
import { readRecordIo, recordIoFrame } from '../local/sagemaker/channel-data';
import { LOCAL_S3_CREDENTIALS, startLocalS3, type LocalS3 } from '../local/s3';
import { startLocalSageMaker, type LocalSageMaker } from '../local/sagemaker';

const REGION = 'us-east-1';
const BUCKET = 'channels-test';
const ROLE = 'arn:aws:iam::000000000000:role/SageMakerRetraining';
const IMAGE = '000000000000.dkr.ecr.us-east-1.amazonaws.com/channel-probe:latest';

/** Reports every channel it was given: File mode files, or each Pipe epoch's bytes (two epochs). */
const PROBE = `
import { readFileSync, readdirSync, writeFileSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';
const root = process.env.OPT_ML;
const config = JSON.parse(readFileSync(path.join(root, 'input/config/inputdataconfig.json'), 'utf8'));
const data = path.join(root, 'input/data');
const report = { config, channels: {} };
for (const [name, c] of Object.entries(config)) {
  if (c.TrainingInputMode === 'Pipe') {
    const epochs = [];
    for (let e = 0; e < 2; e++) epochs.push(readFileSync(path.join(data, name + '_' + e)).toString('base64'));
    report.channels[name] = { pipe: true, epochs, dirExists: existsSync(path.join(data, name)) };
  } else {
    const files = {};
    const walk = (dir, rel) => { for (const f of readdirSync(dir)) { const p = path.join(dir, f); const r = rel ? rel + '/' + f : f; if (statSync(p).isDirectory()) walk(p, r); else files[r] = readFileSync(p, 'utf8'); } };
    walk(path.join(data, name), '');
    report.channels[name] = { pipe: false, files };
  }
}
writeFileSync(path.join(root, 'model/received.json'), JSON.stringify(report));
`;

let workDir: string;
let s3Server: LocalS3;
let s3: S3Client;
let local: LocalSageMaker;
let sagemaker: SageMakerClient;
let jobs = 0;

before(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'dataset-channels-test-'));
  await mkdir(path.join(workDir, 'entry'));
  await writeFile(path.join(workDir, 'entry', 'probe.ts'), PROBE);
  s3Server = await startLocalS3({ directory: path.join(workDir, 's3'), buckets: [BUCKET] });
  s3 = new S3Client({ region: REGION, endpoint: s3Server.endpoint, credentials: LOCAL_S3_CREDENTIALS, forcePathStyle: true });
  local = await startLocalSageMaker({
    dataDir: path.join(workDir, 'sagemaker'),
    s3,
    roles: [ROLE],
    stopGraceSeconds: 2,
    images: { 'channel-probe': { train: path.join(workDir, 'entry', 'probe.ts') } },
  });
  sagemaker = new SageMakerClient({ region: REGION, endpoint: local.endpoint, credentials: LOCAL_S3_CREDENTIALS });
});

after(async () => {
  await local?.close();
  await s3Server?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

async function put(key: string, body: string | Buffer): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
}

function request(channels: Channel[], mode: 'File' | 'Pipe' = 'File'): CreateTrainingJobRequest {
  return {
    TrainingJobName: `probe-${++jobs}`,
    RoleArn: ROLE,
    AlgorithmSpecification: { TrainingImage: IMAGE, TrainingInputMode: mode },
    InputDataConfig: channels,
    OutputDataConfig: { S3OutputPath: `s3://${BUCKET}/output` },
    ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 10 },
    StoppingCondition: { MaxRuntimeInSeconds: 600 },
  };
}

interface Received {
  config: Record<string, Record<string, string>>;
  channels: Record<string, { pipe: true; epochs: string[]; dirExists: boolean } | { pipe: false; files: Record<string, string> }>;
}

/** Runs a probe job to its end and returns what the probe received. */
async function probe(req: CreateTrainingJobRequest): Promise<Received> {
  await sagemaker.send(new CreateTrainingJobCommand(req));
  for (;;) {
    const job = await sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: req.TrainingJobName }));
    if (job.TrainingJobStatus === 'Failed') assert.fail(`probe job failed: ${job.FailureReason}`);
    if (job.TrainingJobStatus === 'Completed') {
      const key = job.ModelArtifacts!.S3ModelArtifacts!.slice(`s3://${BUCKET}/`.length);
      const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      const dir = await mkdtemp(path.join(workDir, 'model-'));
      await writeFile(path.join(dir, 'model.tar.gz'), Buffer.from(await object.Body!.transformToByteArray()));
      await extractTar({ file: path.join(dir, 'model.tar.gz'), cwd: dir });
      return JSON.parse(await readFile(path.join(dir, 'received.json'), 'utf8')) as Received;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function failureOf(req: CreateTrainingJobRequest): Promise<string> {
  await sagemaker.send(new CreateTrainingJobCommand(req));
  for (;;) {
    const job = await sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: req.TrainingJobName }));
    if (job.TrainingJobStatus === 'Completed') assert.fail('the job was expected to fail');
    if (job.TrainingJobStatus === 'Failed') return job.FailureReason!;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const s3Channel = (name: string, type: 'S3Prefix' | 'ManifestFile' | 'AugmentedManifestFile', uri: string, extra: Partial<Channel> = {}, attributes?: string[]): Channel => ({
  ChannelName: name,
  ...extra,
  DataSource: { S3DataSource: { S3DataType: type, S3Uri: uri, ...(attributes ? { AttributeNames: attributes } : {}) } },
});

const pipeOf = (r: Received, channel: string) => {
  const c = r.channels[channel]!;
  assert.ok(c.pipe, `${channel} was not a pipe`);
  return c.epochs.map((e) => Buffer.from(e, 'base64'));
};

describe('the local SageMaker delivers channels as SageMaker does', () => {
  it('RecordIO frames round-trip, padded to 4 bytes', () => {
    const frames = Buffer.concat([recordIoFrame(Buffer.from('abcde')), recordIoFrame(Buffer.alloc(0)), recordIoFrame(Buffer.from('1234'))]);
    assert.equal(frames.length, 8 + 8 + 8 + 8 + 4);
    assert.deepEqual(readRecordIo(frames).map((b) => b.toString()), ['abcde', '', '1234']);
  });

  it('File mode with a ManifestFile downloads exactly the listed objects, at their relative paths', async () => {
    await put('m/data/a.csv', '1,1\n');
    await put('m/data/sub/b.csv', '0,2\n');
    await put('m/data/stray.csv', 'not listed\n');
    await put('m/train.manifest', JSON.stringify([{ prefix: `s3://${BUCKET}/m/data/` }, 'a.csv', 'sub/b.csv']));
    const r = await probe(request([s3Channel('train', 'ManifestFile', `s3://${BUCKET}/m/train.manifest`)]));
    assert.deepEqual(r.channels.train, { pipe: false, files: { 'a.csv': '1,1\n', 'sub/b.csv': '0,2\n' } });
  });

  it('Pipe mode streams each epoch through <channel>_<epoch>, gunzipped, one RecordIO record per object', async () => {
    await put('p/train/part-00000.csv.gz', gzipSync('1,1,1\n0,2,2\n'));
    await put('p/train/part-00001.csv.gz', gzipSync('1,3,3\n'));
    await put('p/validation/part-00000.csv', '0,9,9\n');
    const r = await probe(
      request(
        [
          s3Channel('train', 'S3Prefix', `s3://${BUCKET}/p/train/`, { CompressionType: 'Gzip', RecordWrapperType: 'RecordIO' }),
          s3Channel('validation', 'S3Prefix', `s3://${BUCKET}/p/validation/`),
        ],
        'Pipe',
      ),
    );
    const [epoch0, epoch1] = pipeOf(r, 'train');
    assert.deepEqual(readRecordIo(epoch0!).map((b) => b.toString()), ['1,1,1\n0,2,2\n', '1,3,3\n']);
    assert.deepEqual(epoch1, epoch0);
    assert.equal((r.channels.train as { dirExists: boolean }).dirExists, false, 'a Pipe channel puts nothing on the volume');
    assert.deepEqual(pipeOf(r, 'validation').map((b) => b.toString()), ['0,9,9\n', '0,9,9\n']);
    assert.equal(r.config.train!.TrainingInputMode, 'Pipe');
    assert.equal(r.config.train!.CompressionType, 'Gzip');
    assert.equal(r.config.train!.RecordWrapperType, 'RecordIO');
  });

  it('an augmented manifest sends the AttributeNames in order, line by line, and a missing attribute fails the job', async () => {
    await put('aug/ok.jsonl', '{"features":"1,2","label":1,"key":"k1"}\n{"label":0,"features":"3,4","key":"k2"}\n');
    const r = await probe(
      request([s3Channel('train', 'AugmentedManifestFile', `s3://${BUCKET}/aug/ok.jsonl`, { RecordWrapperType: 'RecordIO' }, ['features', 'label'])], 'Pipe'),
    );
    assert.deepEqual(readRecordIo(pipeOf(r, 'train')[0]!).map((b) => b.toString()), ['1,2', '1', '3,4', '0']);

    await put('aug/bad.jsonl', '{"features":"1,2","label":1}\n{"features":"3,4"}\n');
    const reason = await failureOf(request([s3Channel('train', 'AugmentedManifestFile', `s3://${BUCKET}/aug/bad.jsonl`, { RecordWrapperType: 'RecordIO' }, ['features', 'label'])], 'Pipe'));
    assert.match(reason, /^ClientError: Attribute label is not found in line 2 of the augmented manifest/);
  });

  it('CreateTrainingJob refuses what SageMaker allows only in Pipe mode', async () => {
    const refuse = async (channel: Channel, message: RegExp) =>
      assert.rejects(sagemaker.send(new CreateTrainingJobCommand(request([channel]))), (err: Error) => {
        assert.equal(err.name, 'ValidationException');
        assert.match(err.message, message);
        return true;
      });
    await refuse(s3Channel('train', 'AugmentedManifestFile', `s3://${BUCKET}/aug/ok.jsonl`, {}, ['features']), /AugmentedManifestFile can only be used if the channel's input mode is Pipe/);
    await refuse(s3Channel('train', 'S3Prefix', `s3://${BUCKET}/p/train/`, { CompressionType: 'Gzip' }), /CompressionType Gzip is used only in Pipe input mode/);
    await refuse(s3Channel('train', 'S3Prefix', `s3://${BUCKET}/p/train/`, { RecordWrapperType: 'RecordIO' }), /RecordWrapperType RecordIO is used only in Pipe input mode/);
    await refuse(s3Channel('train', 'S3Prefix', `s3://${BUCKET}/p/train/`, {}, ['features']), /AttributeNames apply only to S3DataType AugmentedManifestFile/);
  });
});

describe('a dataset version reaches training through the channel its config chose', () => {
  const base = (n: number, channels: PipelineConfigInput['dataset']['channels']) =>
    parsePipelineConfig({
      model: `channels-${n}`,
      roleArn: ROLE,
      predictorType: 'binary_classifier',
      endpoint: { name: 'e', captureS3Uri: `s3://${BUCKET}/capture` },
      dataset: {
        rootS3Uri: `s3://${BUCKET}/datasets`,
        newDataS3Uri: `s3://${BUCKET}/labels-${n}`,
        schema: { label: { name: 'y', classes: 2 }, features: [{ name: 'a', type: 'numerical' }, { name: 'b', type: 'numerical' }] },
        channels,
      },
      training: { image: IMAGE, outputS3Uri: `s3://${BUCKET}/training` },
      evaluation: { image: IMAGE, outputS3Uri: `s3://${BUCKET}/evaluation` },
      reportsS3Uri: `s3://${BUCKET}/reports`,
    });
  const rows = Array.from({ length: 250 }, (_, i) => `${i % 2},${i},${i * 2}`);
  const versionFor = async (n: number, channels: PipelineConfigInput['dataset']['channels']) => {
    const config = base(n, channels);
    await put(`labels-${n}/batch.csv`, rows.join('\n') + '\n');
    const summary = await mergeDatasetVersion(s3, { config, parentManifestUri: null });
    const manifest = JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: summary.manifestUri.slice(`s3://${BUCKET}/`.length) }))).Body!.transformToString()) as DatasetVersionManifest;
    const channelsOf = (['train', 'validation'] as const).map((s) => trainingChannel(s, summary.channelSources![s], config.dataset.channels));
    return { config, summary, manifest, channelsOf };
  };

  it('many CSV objects go as a ManifestFile in File mode, and every row arrives once', async () => {
    const { manifest, channelsOf } = await versionFor(1, { objectRows: 40 });
    assert.ok(manifest.splits.train.objects.length > 1);
    assert.equal(manifest.channels.train.s3DataType, 'ManifestFile');
    assert.equal(channelsOf[0]!.DataSource!.S3DataSource!.S3DataType, 'ManifestFile');
    const r = await probe(request(channelsOf));
    const train = r.channels.train as { files: Record<string, string> };
    assert.equal(Object.keys(train.files).length, manifest.splits.train.objects.length);
    const received = Object.values(train.files).join('').split('\n').filter(Boolean);
    assert.equal(received.length, manifest.counts.splits.train);
    assert.equal(new Set(received).size, received.length);
  });

  it('Pipe mode with an augmented manifest sends features then label per row, RecordIO-wrapped', async () => {
    const { manifest, channelsOf } = await versionFor(2, { format: 'augmented-manifest', inputMode: 'Pipe', recordWrapper: 'RecordIO' });
    const train = channelsOf[0]!;
    assert.equal(train.InputMode, 'Pipe');
    assert.equal(train.RecordWrapperType, 'RecordIO');
    assert.deepEqual(train.DataSource!.S3DataSource!.AttributeNames, [...AUGMENTED_ATTRIBUTES]);
    assert.equal(train.DataSource!.S3DataSource!.S3Uri, manifest.splits.train.rowsUri);
    const r = await probe(request(channelsOf, 'Pipe'));
    const records = readRecordIo(pipeOf(r, 'train')[0]!).map((b) => b.toString());
    assert.equal(records.length, 2 * manifest.counts.splits.train);
    for (let i = 0; i < records.length; i += 2) assert.ok(rows.includes(`${records[i + 1]},${records[i]}`), `${records[i]} / ${records[i + 1]} is not an input row`);
  });

  it('Pipe mode with Gzip reads gzipped copies of the CSV objects', async () => {
    const { manifest, channelsOf } = await versionFor(3, { inputMode: 'Pipe', compression: 'Gzip' });
    assert.equal(channelsOf[0]!.CompressionType, 'Gzip');
    assert.match(channelsOf[0]!.DataSource!.S3DataSource!.S3Uri!, /\/csv-gzip\/train\/$/);
    const r = await probe(request(channelsOf, 'Pipe'));
    const lines = pipeOf(r, 'train')[0]!.toString().split('\n').filter(Boolean);
    assert.equal(lines.length, manifest.counts.splits.train);
  });

  it('a config that asks for what SageMaker refuses fails validation, naming the field', () => {
    assert.throws(() => base(4, { format: 'augmented-manifest' }), /dataset\.channels\.format: an augmented manifest needs inputMode Pipe/);
    assert.throws(() => base(5, { compression: 'Gzip' }), /dataset\.channels\.compression: CompressionType Gzip needs inputMode Pipe/);
    const source = channelSourceFor({ format: 'csv', compression: 'None', s3DataType: 'auto', recordWrapper: 'None' }, { csvPrefix: 'p/', csvObjects: 1, manifestUri: 'm', augmentedManifestUri: 'a' });
    assert.equal(source.s3DataType, 'S3Prefix');
  });
});
