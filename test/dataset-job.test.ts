// Past dataset.processingJobAboveBytes the merge runs as a SageMaker Processing job, here on the local
// SageMaker with its sagemaker-retraining-dataset image and a threshold of one byte: the job is named
// from the run and the version, writes the same objects the worker would, is re-attached to (not
// created again) when the activity runs again, and a version already complete starts no job at all.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ListProcessingJobsCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { MockActivityEnvironment } from '@temporalio/testing';
import { expandDataset, mergeDatasetVersion } from '../activities/dataset';
import type { Champion, DatasetVersionSummary } from '../activities/types';
import { parsePipelineConfig, type PipelineConfig } from '../domain/config';
import type { DatasetVersionManifest } from '../domain/dataset-merge/manifest';
import { LOCAL_S3_CREDENTIALS, startLocalS3, type LocalS3 } from '../local/s3';
import { startLocalSageMaker, type LocalSageMaker } from '../local/sagemaker';

const REGION = 'us-east-1';
const BUCKET = 'dataset-job-test';
const ROLE = 'arn:aws:iam::000000000000:role/SageMakerRetraining';
const DATASET_IMAGE = '000000000000.dkr.ecr.us-east-1.amazonaws.com/sagemaker-retraining-dataset:latest';

let workDir: string;
let s3Server: LocalS3;
let s3: S3Client;
let local: LocalSageMaker;
let sagemaker: SageMakerClient;

before(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'dataset-job-test-'));
  s3Server = await startLocalS3({ directory: path.join(workDir, 's3'), buckets: [BUCKET] });
  s3 = new S3Client({ region: REGION, endpoint: s3Server.endpoint, credentials: LOCAL_S3_CREDENTIALS, forcePathStyle: true });
  local = await startLocalSageMaker({ dataDir: path.join(workDir, 'sagemaker'), s3, roles: [ROLE] });
  sagemaker = new SageMakerClient({ region: REGION, endpoint: local.endpoint, credentials: LOCAL_S3_CREDENTIALS });
});

after(async () => {
  await local?.close();
  await s3Server?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

function configFor(model: string, overrides: Record<string, unknown> = {}): PipelineConfig {
  return parsePipelineConfig({
    model,
    roleArn: ROLE,
    predictorType: 'binary_classifier',
    endpoint: { name: 'e', captureS3Uri: `s3://${BUCKET}/capture` },
    dataset: {
      rootS3Uri: `s3://${BUCKET}/datasets`,
      newDataS3Uri: `s3://${BUCKET}/labels/${model}`,
      schema: { label: { name: 'y', classes: 2 }, features: [{ name: 'a', type: 'numerical' }, { name: 'b', type: 'numerical' }] },
      conflictPolicy: 'newest-wins',
      channels: { objectRows: 300 },
      ...overrides,
    },
    training: { image: 'img', outputS3Uri: `s3://${BUCKET}/training` },
    evaluation: { image: 'img', outputS3Uri: `s3://${BUCKET}/evaluation` },
    reportsS3Uri: `s3://${BUCKET}/reports`,
  });
}

const inJob = (model: string) => configFor(model, { processingJobAboveBytes: 1, processingJob: { image: DATASET_IMAGE } });

async function put(key: string, body: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
}

async function text(uri: string): Promise<string> {
  const key = uri.slice(`s3://${BUCKET}/`.length);
  return (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToString();
}

const manifestOf = async (s: DatasetVersionSummary) => JSON.parse(await text(s.manifestUri)) as DatasetVersionManifest;

const championOn = (manifestUri: string): Champion => ({
  modelPackageArn: 'arn:aws:sagemaker:us-east-1:000000000000:model-package/m/1',
  modelPackageVersion: 1,
  modelDataUrl: `s3://${BUCKET}/model.tar.gz`,
  image: 'img',
  trainingJobName: null,
  datasetVersion: null,
  datasetManifestUri: manifestUri,
  endpointConfigName: 'c',
  modelName: 'm',
  captureS3Uri: null,
});

const runId = 'run-1';
const expandInActivity = (config: PipelineConfig, champion: Champion | null): Promise<DatasetVersionSummary> =>
  new MockActivityEnvironment({ workflowExecution: { workflowId: `wf-${config.model}`, runId }, heartbeatTimeoutMs: 60_000 }).run(
    expandDataset,
    s3,
    { config, champion },
    { sagemaker, polling: { firstMs: 100, maxMs: 200, factor: 2 } },
  ) as Promise<DatasetVersionSummary>;

async function datasetJobs(): Promise<string[]> {
  const page = await sagemaker.send(new ListProcessingJobsCommand({ MaxResults: 100 }));
  return (page.ProcessingJobSummaries ?? []).map((j) => j.ProcessingJobName!).filter((n) => n.includes('-dataset-'));
}

async function splitLines(m: DatasetVersionManifest): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const s of ['train', 'validation', 'holdout'] as const) {
    out[s] = [];
    for (const o of m.splits[s].objects) out[s].push(...(await text(o.uri)).split('\n').filter(Boolean));
    out[`${s}-rows`] = (await text(m.splits[s].rowsUri)).split('\n').filter(Boolean).map((l) => l.replace(/"origin":"[^"]*"/, ''));
  }
  return out;
}

describe('the dataset merge as a processing job', () => {
  it('writes what the worker writes, from a parent and new data, and records how it ran', async () => {
    const rows = (from: number, n: number) => Array.from({ length: n }, (_, i) => `${(from + i) % 2},${from + i},${from + i + 0.5}`).join('\n') + '\n';
    // The same inputs under two models: one merged in the worker, one in a processing job.
    for (const model of ['worker', 'job']) {
      await put(`labels/${model}/a.csv`, rows(0, 600));
    }
    const workerV1 = await mergeDatasetVersion(s3, { config: configFor('worker'), parentManifestUri: null });
    const jobV1 = await expandInActivity(inJob('job'), null);
    const m1 = await manifestOf(jobV1);
    assert.equal(m1.merge.mode, 'processing_job');
    assert.match(m1.merge.processingJobName!, /^job-dataset-[0-9a-f]{12}$/);
    assert.ok(m1.conservation.holds, m1.conservation.equation);

    // A second version on top, with duplicates, a relabel and a bad line.
    for (const model of ['worker', 'job']) await put(`labels/${model}/b.csv`, rows(500, 200) + '1,0,0.5\nnot,a,row\n');
    const workerV2 = await mergeDatasetVersion(s3, { config: configFor('worker'), parentManifestUri: workerV1.manifestUri });
    const jobV2 = await expandInActivity(inJob('job'), championOn(jobV1.manifestUri));
    const [w, j] = [await manifestOf(workerV2), await manifestOf(jobV2)];
    assert.equal(j.merge.mode, 'processing_job');
    assert.equal(w.merge.mode, 'worker');
    assert.deepEqual(j.counts, w.counts);
    assert.equal(j.counts.duplicates, 100);
    assert.equal(j.counts.relabelled, 1);
    assert.deepEqual(j.counts.quarantinedByReason, { bad_label: 1 });
    assert.deepEqual(await splitLines(j), await splitLines(w));
    assert.ok(j.splits.train.objects.length > 1);
    assert.equal(j.channels.train.s3DataType, 'ManifestFile');
    // The job's manifest file names the objects it uploaded.
    const listed = JSON.parse(await text(j.channels.train.s3Uri)) as [{ prefix: string }, ...string[]];
    assert.deepEqual(listed.slice(1).map((r) => `${listed[0].prefix}${r}`), j.splits.train.objects.map((o) => o.uri));
    assert.equal((await datasetJobs()).length, 2);
  });

  it('re-attaches to its job when the activity runs again, and starts none for a complete version', async () => {
    await put('labels/again/a.csv', '1,1,1\n0,2,2\n1,3,3\n');
    const first = await expandInActivity(inJob('again'), null);
    const jobsAfterFirst = await datasetJobs();
    // A retry that lost the manifest (the worker died before writing it) finds the job by its name.
    const key = first.manifestUri.slice(`s3://${BUCKET}/`.length);
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
    const retried = await expandInActivity(inJob('again'), null);
    assert.equal(retried.versionId, first.versionId);
    assert.equal(retried.reused, false);
    assert.deepEqual(await datasetJobs(), jobsAfterFirst);
    const again = await expandInActivity(inJob('again'), null);
    assert.equal(again.reused, true);
    assert.deepEqual(await datasetJobs(), jobsAfterFirst);
  });
});
