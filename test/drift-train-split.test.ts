// The dataset baseline is the champion's whole training split: a dataset-version/2 manifest lists the
// split's CSV objects (a large split is written as several), and every one is profiled, in the worker and
// in the processing job, with the same report as the same rows in one object of an older manifest.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeProcessingJobCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { MockActivityEnvironment } from '@temporalio/testing';
import { detectDrift } from '../activities/drift';
import type { Champion, DriftSummary } from '../activities/types';
import { parsePipelineConfig, type PipelineConfigInput } from '../domain/config';
import { MANIFEST_FORMAT } from '../domain/dataset-merge/manifest';
import { sageMakerName } from '../domain/job-names';
import { seededRandom } from '../domain/seeded-random';
import { startLocalStack, type LocalStack } from '../local/stack';

const BUCKET = 'drift-train-split-test';
const MODEL = 'split-drift';
const DRIFT_IMAGE = '000000000000.dkr.ecr.us-east-1.amazonaws.com/sagemaker-retraining-drift:latest';
const WINDOW_END = '2026-11-24T12:00:00.000Z';
const features = [
  { name: 'spend', type: 'numerical' as const },
  { name: 'tenure', type: 'numerical' as const },
  { name: 'plan', type: 'categorical' as const },
];
/** Rows in each of the split's three objects; only the first would have been read before. */
const PARTS = [2_000, 1_500, 2_500];
const SPLIT_ROWS = PARTS.reduce((a, b) => a + b, 0);

let dataDir: string;
let stack: LocalStack;
let s3: S3Client;
let sagemaker: SageMakerClient;
let partBytes: number[];

function config(drift: PipelineConfigInput['drift'] = {}) {
  return parsePipelineConfig({
    model: MODEL,
    roleArn: 'arn:aws:iam::000000000000:role/SageMakerRetraining',
    predictorType: 'binary_classifier',
    endpoint: { name: MODEL, captureS3Uri: `s3://${BUCKET}/capture` },
    // Each run reads the split: a kept profile (drift.keepBaselineProfile) would spare the later ones that.
    drift: { windowHours: 3, minSamples: 100, keepBaselineProfile: false, ...drift },
    dataset: { rootS3Uri: `s3://${BUCKET}/datasets`, newDataS3Uri: `s3://${BUCKET}/labels`, schema: { label: { name: 'churned', classes: 2 }, features } },
    training: { image: 'unused', outputS3Uri: `s3://${BUCKET}/training` },
    evaluation: { image: 'unused', outputS3Uri: `s3://${BUCKET}/evaluation` },
    reportsS3Uri: `s3://${BUCKET}/reports`,
  });
}

function champion(version: 'parts' | 'whole'): Champion {
  return {
    modelPackageArn: `arn:aws:sagemaker:us-east-1:000000000000:model-package/${MODEL}/1`,
    modelPackageVersion: 1,
    modelDataUrl: `s3://${BUCKET}/model.tar.gz`,
    image: 'unused',
    trainingJobName: null,
    datasetVersion: version,
    datasetManifestUri: `s3://${BUCKET}/datasets/${MODEL}/${version}/manifest.json`,
    endpointConfigName: 'unused',
    modelName: 'unused',
    captureS3Uri: `s3://${BUCKET}/capture`,
  };
}

function captureLine(inferenceTime: string, data: string): string {
  return JSON.stringify({
    captureData: {
      endpointInput: { observedContentType: 'text/csv', mode: 'INPUT', data, encoding: 'CSV' },
      endpointOutput: { observedContentType: 'text/csv', mode: 'OUTPUT', data: '0.5', encoding: 'CSV' },
    },
    eventMetadata: { eventId: `e-${inferenceTime}`, inferenceTime },
    eventVersion: '0',
  });
}

async function put(key: string, body: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
}

async function getJson(uri: string): Promise<Record<string, unknown>> {
  const [, bucket, key] = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri)!;
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return JSON.parse(await object.Body!.transformToString()) as Record<string, unknown>;
}

function runDetectDrift(version: 'parts' | 'whole', runId: string, drift: PipelineConfigInput['drift'] = {}): Promise<DriftSummary> {
  const env = new MockActivityEnvironment({ workflowExecution: { workflowId: 'drift-train-split', runId }, heartbeatTimeoutMs: 60_000 });
  return env.run(detectDrift, s3, { config: config(drift), champion: champion(version), windowEnd: WINDOW_END }, { sagemaker, polling: { firstMs: 100, maxMs: 400, factor: 2 } });
}

before(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'drift-train-split-test-'));
  stack = await startLocalStack({ dataDir, buckets: [BUCKET], applyToProcess: true });
  s3 = new S3Client({});
  sagemaker = new SageMakerClient({});

  const random = seededRandom(31);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  // Each part differs from the others (spend grows part by part, the last part alone has plan 3), so a
  // profile missing any of them has other counts, moments and categories.
  const row = (part: number) => [(50 + 10 * part + 15 * normal()).toFixed(2), Math.round(24 + 10 * normal()), part === 2 && random() < 0.2 ? 3 : Math.floor(random() * 3)];
  const parts = PARTS.map((rows, part) => Array.from({ length: rows }, () => [random() < 0.3 ? 1 : 0, ...row(part)].join(',')));
  const bodies = parts.map((lines) => `${lines.join('\n')}\n`);
  partBytes = bodies.map((b) => Buffer.byteLength(b));

  // A dataset-version/2 manifest: the split's objects under csv/train/, listed in order.
  const root = `datasets/${MODEL}/parts`;
  const objects = bodies.map((_, i) => ({ uri: `s3://${BUCKET}/${root}/csv/train/part-${String(i).padStart(5, '0')}.csv`, lines: PARTS[i]!, bytes: partBytes[i]! }));
  for (const [i, body] of bodies.entries()) await put(objects[i]!.uri.slice(`s3://${BUCKET}/`.length), body);
  await put(
    `${root}/manifest.json`,
    JSON.stringify({
      format: MANIFEST_FORMAT,
      versionId: 'parts',
      model: MODEL,
      schema: { label: { name: 'churned', classes: 2 }, features },
      splits: {
        train: { uri: objects[0]!.uri, rows: SPLIT_ROWS, objects, rowsUri: `s3://${BUCKET}/${root}/rows/train.jsonl` },
        validation: { uri: `s3://${BUCKET}/${root}/csv/validation/part-00000.csv`, rows: 0, objects: [], rowsUri: `s3://${BUCKET}/${root}/rows/validation.jsonl` },
        holdout: { uri: `s3://${BUCKET}/${root}/csv/holdout/part-00000.csv`, rows: 0, objects: [], rowsUri: `s3://${BUCKET}/${root}/rows/holdout.jsonl` },
      },
    }),
  );
  // The same rows in one object, as a version written before dataset-version/2 holds its split.
  await put(`datasets/${MODEL}/whole/train.csv`, bodies.join(''));
  await put(`datasets/${MODEL}/whole/manifest.json`, JSON.stringify({ versionId: 'whole', splits: { train: { uri: `s3://${BUCKET}/datasets/${MODEL}/whole/train.csv`, rows: SPLIT_ROWS } } }));

  const requests = (h: number, n: number) =>
    Array.from({ length: n }, (_, i) => captureLine(`2026-11-24T${String(h).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00Z`, row(1).join(',')));
  await put('capture/split-drift/AllTraffic/2026/11/24/10/a.jsonl', requests(10, 300).join('\n'));
  await put('capture/split-drift/AllTraffic/2026/11/24/11/a.jsonl', requests(11, 300).join('\n'));
});

after(async () => {
  await stack?.close();
  if (!process.env.KEEP_TEST_DATA) await rm(dataDir, { recursive: true, force: true });
});

describe('the dataset baseline: every object of the training split', () => {
  let whole: Record<string, unknown>;

  it('an older manifest: the split in one object', async () => {
    const summary = await runDetectDrift('whole', 'run-whole');
    assert.equal(summary.referenceCount, SPLIT_ROWS);
    whole = await getJson(summary.reportUri!);
    const baseline = whole.baseline as Record<string, unknown>;
    assert.deepEqual({ objects: baseline.objects, rows: baseline.rows }, { objects: 1, rows: SPLIT_ROWS });
  });

  it('a dataset-version/2 manifest listing three objects: all three profiled, the same report as one object of the same rows', async () => {
    const summary = await runDetectDrift('parts', 'run-parts');
    assert.equal(summary.referenceCount, SPLIT_ROWS);
    const report = await getJson(summary.reportUri!);
    const baseline = report.baseline as Record<string, unknown>;
    assert.deepEqual(
      { objects: baseline.objects, rows: baseline.rows, bytes: baseline.bytes, unreadableRows: baseline.unreadableRows, uri: baseline.uri, datasetVersion: baseline.datasetVersion },
      { objects: 3, rows: SPLIT_ROWS, bytes: partBytes.reduce((a, b) => a + b, 0), unreadableRows: 0, uri: `s3://${BUCKET}/datasets/${MODEL}/parts/csv/train/part-00000.csv`, datasetVersion: 'parts' },
    );
    // Below 10,000 rows every profile is exact, so the statistics are those of the same rows in one object.
    for (const key of ['features', 'verdict', 'score', 'driftedFeatures', 'referenceCount', 'currentCount']) assert.deepEqual(report[key], whole[key], key);
    const plan = (report.features as { name: string; referenceCount: number; unseenCategories?: string[] }[]).find((f) => f.name === 'plan')!;
    assert.equal(plan.referenceCount, SPLIT_ROWS);
  });

  it('in a processing job the split goes in through a manifest of its objects, with the same report', async () => {
    const summary = await runDetectDrift('parts', 'run-parts-job', { processingJobAboveBytes: 1, processingJob: { image: DRIFT_IMAGE } });
    const jobName = sageMakerName({ model: MODEL, kind: 'drift', workflowId: 'drift-train-split', runId: 'run-parts-job' });
    const job = await sagemaker.send(new DescribeProcessingJobCommand({ ProcessingJobName: jobName }));
    assert.equal(job.ProcessingJobStatus, 'Completed', job.FailureReason);
    const baselineInput = job.ProcessingInputs?.find((i) => i.InputName === 'baseline');
    assert.equal(baselineInput?.S3Input?.S3DataType, 'ManifestFile');
    assert.match(job.ExitMessage ?? '', new RegExp(`baseline: ${SPLIT_ROWS} rows`));
    const report = await getJson(summary.reportUri!);
    assert.equal((report.processing as Record<string, unknown>).mode, 'processing_job');
    for (const key of ['features', 'verdict', 'score', 'driftedFeatures', 'referenceCount', 'currentCount']) assert.deepEqual(report[key], whole[key], key);
    const baseline = report.baseline as Record<string, unknown>;
    assert.deepEqual({ objects: baseline.objects, rows: baseline.rows }, { objects: 3, rows: SPLIT_ROWS });
  });
});
