// Streaming drift: folding capture lines and training-split lines into profiles (pure), and the drift
// activity against the real local stack (S3 and the local SageMaker), in the worker and as a processing
// job: the same report either way, malformed lines counted, an empty window insufficient.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeProcessingJobCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { MockActivityEnvironment } from '@temporalio/testing';
import { detectDrift, forEachLine, profileCaptureObjects, type ObjectSource } from '../activities/drift';
import type { Champion, DriftSummary } from '../activities/types';
import { parsePipelineConfig, type PipelineConfigInput } from '../domain/config';
import { CaptureWindowProfile, DatasetSplitProfile, type NumericalProfile, type CategoricalProfile } from '../domain/drift';
import { sageMakerName } from '../domain/job-names';
import { seededRandom } from '../domain/seeded-random';
import { startLocalStack, type LocalStack } from '../local/stack';

const features = [
  { name: 'spend', type: 'numerical' as const },
  { name: 'tenure', type: 'numerical' as const },
  { name: 'plan', type: 'categorical' as const },
];

function captureLine(inferenceTime: string, data: string, encoding: 'CSV' | 'JSON' | 'BASE64' = 'CSV', contentType = 'text/csv'): string {
  return JSON.stringify({
    captureData: {
      endpointInput: { observedContentType: contentType, mode: 'INPUT', data: encoding === 'BASE64' ? Buffer.from(data).toString('base64') : data, encoding },
      endpointOutput: { observedContentType: 'text/csv', mode: 'OUTPUT', data: '0.5', encoding: 'CSV' },
    },
    eventMetadata: { eventId: `e-${inferenceTime}`, inferenceTime },
    eventVersion: '0',
  });
}

describe('folding lines into profiles', () => {
  const window = { from: Date.parse('2026-11-24T09:00:00Z'), to: Date.parse('2026-11-24T12:00:00Z') };

  it('reads CSV, JSON and base64 requests, filters by inferenceTime, and counts malformed lines with examples', () => {
    const fold = new CaptureWindowProfile({ features }, window);
    const lines = [
      captureLine('2026-11-24T09:30:00Z', '10.5,3,gold'),
      captureLine('2026-11-24T10:00:00Z', '{"instances":[{"features":[11,4,"basic"]},{"features":[12,null,1]}]}', 'JSON', 'application/json'),
      captureLine('2026-11-24T10:30:00Z', '13,n/a, 2.0 ', 'BASE64'),
      captureLine('2026-11-24T12:30:00Z', '99,99,gold'),
      '',
      'not json at all',
      JSON.stringify({ captureData: { endpointInput: { observedContentType: 'text/csv', mode: 'INPUT', data: '1,2,3', encoding: 'CSV' } } }),
      captureLine('2026-11-24T11:00:00Z', '1,2'),
      captureLine('2026-11-24T11:00:00Z', '1,2,3\n4,5'),
    ];
    lines.forEach((line, i) => fold.addLine(line, 's3://b/capture/x.jsonl', i + 1));
    const { stats, profile } = fold;
    assert.deepEqual(
      { records: stats.records, outsideWindow: stats.outsideWindow, rows: stats.rows, malformedRecords: stats.malformedRecords },
      { records: 8, outsideWindow: 1, rows: 4, malformedRecords: 4 },
    );
    assert.deepEqual(stats.malformedExamples, [
      's3://b/capture/x.jsonl:6: (line): not JSON: ' + JSONParseMessage('not json at all'),
      's3://b/capture/x.jsonl:7: eventMetadata: missing',
      's3://b/capture/x.jsonl:8: input row 1: has 2 values, expected 3 features',
      's3://b/capture/x.jsonl:9: input row 2: has 2 values, expected 3 features',
    ]);
    const spend = profile.feature('spend') as NumericalProfile;
    assert.deepEqual([...spend.values()!], [10.5, 11, 12, 13]);
    const tenure = profile.feature('tenure') as NumericalProfile;
    assert.equal(tenure.count, 2);
    assert.equal(tenure.missing, 2, 'null and "n/a" are missing');
    const plan = profile.feature('plan') as CategoricalProfile;
    assert.deepEqual([...plan.counts()].sort(), [['1', 1], ['2', 1], ['basic', 1], ['gold', 1]], '" 2.0 " and 2 are one category');
    assert.equal(profile.rows, 4);
  });

  it('keeps at most five examples, whatever the number of malformed lines', () => {
    const fold = new CaptureWindowProfile({ features }, null);
    for (let i = 1; i <= 1000; i++) fold.addLine('{', 'f', i);
    assert.equal(fold.stats.malformedRecords, 1000);
    assert.equal(fold.stats.malformedExamples.length, 5);
  });

  it('reads the training split label first, and counts rows of the wrong width', () => {
    const fold = new DatasetSplitProfile({ features });
    ['1,10,3,0', '0,11,4,1', '0,12', '', '1,13,5,2,9'].forEach((line, i) => fold.addLine(line, 's3://b/train/data.csv', i + 1));
    assert.equal(fold.stats.rows, 2);
    assert.equal(fold.stats.unreadableRows, 2);
    assert.deepEqual(fold.stats.unreadableExamples, [
      's3://b/train/data.csv:3: has 2 fields, expected the label and 3 features',
      's3://b/train/data.csv:5: has 5 fields, expected the label and 3 features',
    ]);
    assert.deepEqual([...(fold.profile.feature('spend') as NumericalProfile).values()!], [10, 11]);
  });

  it('splits lines across chunk boundaries, multi-byte characters and CRLF included', async () => {
    const text = 'première,1\r\nsecond\n\nthird-€';
    const bytes = new TextEncoder().encode(text);
    const chunks = async function* () {
      for (let i = 0; i < bytes.length; i += 3) yield bytes.subarray(i, i + 3);
    };
    const seen: [string, number][] = [];
    const { bytes: read, lines } = await forEachLine(chunks(), (line, n) => seen.push([line, n]));
    assert.deepEqual(seen, [['première,1', 1], ['second', 2], ['', 3], ['third-€', 4]]);
    assert.equal(read, bytes.length);
    assert.equal(lines, 4);
  });

  it('merges objects in order whatever order their reads finish in, reading at most `concurrency` at once', async () => {
    const objects = Array.from({ length: 12 }, (_, i) => ({ uri: `mem://${i}`, size: 0 }));
    const random = seededRandom(5);
    let open = 0;
    let mostOpen = 0;
    const source: ObjectSource = {
      async open(uri) {
        const index = Number(uri.slice(6));
        open++;
        mostOpen = Math.max(mostOpen, open);
        await new Promise((r) => setTimeout(r, random() * 20));
        open--;
        const text = Array.from({ length: 3_000 }, (_, k) => captureLine('2026-11-24T10:00:00Z', `${index * 3_000 + k},${k % 7},p${k % 3}`)).join('\n');
        return (async function* () {
          yield text;
        })();
      },
    };
    const one = await profileCaptureObjects(source, objects, { features, concurrency: 4 });
    const again = await profileCaptureObjects(source, objects, { features, concurrency: 4 });
    assert.ok(mostOpen <= 4, `${mostOpen} objects open at once`);
    assert.equal(one.stats.rows, 36_000);
    assert.equal(one.stats.objects, 12);
    assert.deepEqual(one.toJSON(), again.toJSON());

    // On threads: the same counts and exact parts; sketches depend on the thread count only, not on timing.
    const threaded = await profileCaptureObjects(source, objects, { features, concurrency: 4, threads: 3 });
    const threadedAgain = await profileCaptureObjects(source, objects, { features, concurrency: 4, threads: 3 });
    assert.deepEqual(threaded.toJSON(), threadedAgain.toJSON());
    assert.deepEqual(threaded.stats, one.stats);
    const [spend, spendThreaded] = [one, threaded].map((p) => p.profile.feature('spend') as NumericalProfile);
    assert.deepEqual([spendThreaded!.count, spendThreaded!.min, spendThreaded!.max, spendThreaded!.sum], [spend!.count, spend!.min, spend!.max, spend!.sum]);
    const [tenure, tenureThreaded] = [one, threaded].map((p) => p.profile.feature('tenure') as NumericalProfile);
    assert.deepEqual(tenureThreaded!.toJSON().distinct, tenure!.toJSON().distinct);
    assert.deepEqual(threaded.profile.feature('plan')!.toJSON(), one.profile.feature('plan')!.toJSON());
  });

  it('a failing read on a fold thread fails the fold with the reason, and stops the threads', async () => {
    const source: ObjectSource = {
      async open(uri) {
        if (uri === 'mem://5') throw new Error('NoSuchKey: mem://5');
        return (async function* () {
          yield captureLine('2026-11-24T10:00:00Z', '1,2,3');
        })();
      },
    };
    const objects = Array.from({ length: 8 }, (_, i) => ({ uri: `mem://${i}`, size: 0 }));
    await assert.rejects(profileCaptureObjects(source, objects, { features, threads: 2 }), /NoSuchKey: mem:\/\/5/);
    await assert.rejects(profileCaptureObjects(source, objects, { features }), /NoSuchKey: mem:\/\/5/);
  });
});

// --- The activity on the local stack -------------------------------------------------------------------

const BUCKET = 'drift-stream-test';
const MODEL = 'churn-drift';
const DRIFT_IMAGE = '000000000000.dkr.ecr.us-east-1.amazonaws.com/sagemaker-retraining-drift:latest';
const WINDOW_END = '2026-11-24T12:00:00.000Z';
let dataDir: string;
let stack: LocalStack;
let s3: S3Client;
let sagemaker: SageMakerClient;

function config(drift: PipelineConfigInput['drift'] = {}) {
  return parsePipelineConfig({
    model: MODEL,
    roleArn: 'arn:aws:iam::000000000000:role/SageMakerRetraining',
    predictorType: 'binary_classifier',
    endpoint: { name: 'churn-drift', captureS3Uri: `s3://${BUCKET}/capture` },
    // Each run reads the split unless a test asks for a kept profile (drift.keepBaselineProfile).
    drift: { windowHours: 3, minSamples: 100, driftShare: 0.3, keepBaselineProfile: false, ...drift },
    dataset: { rootS3Uri: `s3://${BUCKET}/datasets`, newDataS3Uri: `s3://${BUCKET}/labels`, schema: { label: { name: 'churned', classes: 2 }, features } },
    training: { image: 'unused', outputS3Uri: `s3://${BUCKET}/training` },
    evaluation: { image: 'unused', outputS3Uri: `s3://${BUCKET}/evaluation` },
    reportsS3Uri: `s3://${BUCKET}/reports`,
  });
}

const champion: Champion = {
  modelPackageArn: `arn:aws:sagemaker:us-east-1:000000000000:model-package/${MODEL}/1`,
  modelPackageVersion: 1,
  modelDataUrl: `s3://${BUCKET}/model.tar.gz`,
  image: 'unused',
  trainingJobName: null,
  datasetVersion: 'v1',
  datasetManifestUri: `s3://${BUCKET}/datasets/${MODEL}/v1/manifest.json`,
  endpointConfigName: 'unused',
  modelName: 'unused',
  captureS3Uri: `s3://${BUCKET}/capture`,
};

async function put(key: string, body: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
}

async function getText(uri: string): Promise<string> {
  const [, bucket, key] = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri)!;
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return object.Body!.transformToString();
}

async function getJson(uri: string): Promise<Record<string, unknown>> {
  return JSON.parse(await getText(uri));
}

/** Runs the activity as a worker would, on behalf of workflow run `runId`. */
function runDetectDrift(runId: string, drift: PipelineConfigInput['drift'] = {}, windowEnd = WINDOW_END): Promise<DriftSummary> {
  const env = new MockActivityEnvironment({ workflowExecution: { workflowId: 'drift-stream', runId }, heartbeatTimeoutMs: 60_000 });
  return env.run(detectDrift, s3, { config: config(drift), champion, windowEnd }, { sagemaker, polling: { firstMs: 100, maxMs: 400, factor: 2 } });
}

before(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'drift-stream-test-'));
  stack = await startLocalStack({ dataDir, buckets: [BUCKET], applyToProcess: true });
  s3 = new S3Client({});
  sagemaker = new SageMakerClient({});

  const random = seededRandom(77);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const row = (shift: number) => [(50 + 15 * (normal() + shift)).toFixed(2), Math.round(24 + 10 * normal()), Math.floor(random() * 3)];
  const train = Array.from({ length: 3_000 }, () => [random() < 0.3 ? 1 : 0, ...row(0)].join(','));
  train.splice(100, 0, '1,2,3');
  train.splice(200, 0, 'not,a,row,at,all');
  await put(`datasets/${MODEL}/v1/train/data.csv`, `${train.join('\n')}\n`);
  await put(`datasets/${MODEL}/v1/manifest.json`, JSON.stringify({ versionId: 'v1', splits: { train: { uri: `s3://${BUCKET}/datasets/${MODEL}/v1/train/data.csv`, rows: 3_000 } } }));

  // The window is 09:00–12:00. Spend moves a standard deviation; tenure and plan keep their distributions.
  const hour = (h: number) => `capture/churn-drift/AllTraffic/2026/11/24/${String(h).padStart(2, '0')}`;
  const requests = (h: number, n: number) =>
    Array.from({ length: n }, (_, i) => captureLine(`2026-11-24T${String(h).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00Z`, row(1).join(',')));
  await put(`${hour(8)}/early.jsonl`, requests(8, 50).join('\n'));
  await put(`${hour(9)}/a.jsonl`, requests(9, 400).join('\n'));
  await put(`${hour(10)}/a.jsonl`, requests(10, 300).join('\n'));
  await put(`${hour(10)}/b.jsonl`, [...requests(10, 300), '{"truncated":', captureLine('2026-11-24T10:59:00Z', '1,2')].join('\n'));
  await put(`${hour(11)}/a.jsonl`, [...requests(11, 200), 'garbage'].join('\n'));
  await put(`${hour(12)}/a.jsonl`, [captureLine('2026-11-24T12:00:00Z', row(1).join(',')), captureLine('2026-11-24T12:30:00Z', row(1).join(','))].join('\n'));
});

after(async () => {
  await stack?.close();
  if (!process.env.KEEP_TEST_DATA) await rm(dataDir, { recursive: true, force: true });
});

describe('detectDrift on the local stack', () => {
  let workerReport: Record<string, unknown>;

  it('streams baseline and window in the worker: report, statistics.json, malformed lines counted', async () => {
    const summary = await runDetectDrift('run-worker');
    assert.equal(summary.verdict, 'drift');
    assert.deepEqual(summary.driftedFeatures, ['spend']);
    assert.equal(summary.currentCount, 1_201);
    assert.equal(summary.referenceCount, 3_000);
    workerReport = await getJson(summary.reportUri!);
    assert.deepEqual(workerReport.processing, { mode: 'worker', bytes: (workerReport.processing as { bytes: number }).bytes, thresholdBytes: 2 * 1024 ** 3, readConcurrency: 8, threads: 1 });
    const capture = workerReport.capture as Record<string, unknown>;
    assert.deepEqual(
      { objects: capture.objects, records: capture.records, rows: capture.rows, outsideWindow: capture.outsideWindow, malformedRecords: capture.malformedRecords },
      { objects: 5, records: 1_205, rows: 1_201, outsideWindow: 1, malformedRecords: 3 },
    );
    assert.deepEqual(capture.malformedExamples, [
      `s3://${BUCKET}/capture/churn-drift/AllTraffic/2026/11/24/10/b.jsonl:301: (line): not JSON: ${JSONParseMessage('{"truncated":')}`,
      `s3://${BUCKET}/capture/churn-drift/AllTraffic/2026/11/24/10/b.jsonl:302: input row 1: has 2 values, expected 3 features`,
      `s3://${BUCKET}/capture/churn-drift/AllTraffic/2026/11/24/11/a.jsonl:201: (line): not JSON: ${JSONParseMessage('garbage')}`,
    ]);
    const baseline = workerReport.baseline as Record<string, unknown>;
    assert.equal(baseline.rows, 3_000);
    assert.equal(baseline.unreadableRows, 2);
    const spend = (workerReport.features as Record<string, unknown>[]).find((f) => f.name === 'spend')!;
    assert.equal(spend.method, 'wasserstein');
    assert.equal(spend.verdict, 'drift');
    assert.equal(spend.basis, 'exact');
    assert.equal(spend.referenceCount, 3_000);
    assert.equal(spend.currentCount, 1_201);
    const statistics = await getJson(workerReport.statisticsUri as string);
    assert.deepEqual(statistics.dataset, { item_count: 1_201 });
    assert.deepEqual((statistics.features as { name: string }[]).map((f) => f.name), ['spend', 'tenure', 'plan']);
  });

  it('past the size threshold runs the same profiling as a processing job, with the same report', async () => {
    const summary = await runDetectDrift('run-job', { processingJobAboveBytes: 1, processingJob: { image: DRIFT_IMAGE } });
    const jobName = sageMakerName({ model: MODEL, kind: 'drift', workflowId: 'drift-stream', runId: 'run-job' });
    const job = await sagemaker.send(new DescribeProcessingJobCommand({ ProcessingJobName: jobName }));
    assert.equal(job.ProcessingJobStatus, 'Completed', job.FailureReason);
    assert.match(job.ExitMessage ?? '', /window: 1201 rows from 1205 records in 5 objects \(3 malformed, 1 outside the window\)/);
    const report = await getJson(summary.reportUri!);
    assert.deepEqual((report.processing as Record<string, unknown>).mode, 'processing_job');
    assert.equal((report.processing as Record<string, unknown>).jobName, jobName);
    for (const key of ['features', 'verdict', 'score', 'driftedFeatures', 'capture', 'baseline', 'referenceCount', 'currentCount']) {
      assert.deepEqual(report[key], workerReport[key], key);
    }
  });

  it('a retried activity re-attaches to the job its earlier attempt started', async () => {
    const again = await runDetectDrift('run-job', { processingJobAboveBytes: 1, processingJob: { image: DRIFT_IMAGE } });
    const report = await getJson(again.reportUri!);
    assert.equal((report.processing as Record<string, unknown>).reattached, true);
    assert.deepEqual(report.features, workerReport.features);
  });

  it('keeps the baseline profile and reuses it: the same report without the split, in the worker and in a job', async () => {
    const keep = { keepBaselineProfile: true };
    const first = await getJson((await runDetectDrift('run-keep-1', keep)).reportUri!);
    const kept = (first.baseline as { keptProfile: { uri: string; reused: boolean } }).keptProfile;
    assert.equal(kept.reused, false);
    assert.match(kept.uri, new RegExp(`^s3://${BUCKET}/reports/${MODEL}/baseline-profiles/v1/[0-9a-f]{32}\\.json$`));
    assert.ok((await getJson(kept.uri)).identity, 'the profile is written with its identity');
    // The split made unreadable at the same size (the kept profile's identity is the dataset version, the
    // split's objects and their sizes): a run that read it would find no rows at all.
    const splitKey = `datasets/${MODEL}/v1/train/data.csv`;
    const split = await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: splitKey }))).Body!.transformToString();
    await put(splitKey, split.replace(/[^\n]/g, 'x'));
    try {
      for (const [runId, drift] of [['run-keep-2', keep], ['run-keep-job', { ...keep, processingJobAboveBytes: 1, processingJob: { image: DRIFT_IMAGE } }]] as const) {
        const summary = await runDetectDrift(runId, drift);
        const report = await getJson(summary.reportUri!);
        const baseline = report.baseline as Record<string, unknown>;
        assert.deepEqual(baseline.keptProfile, { uri: kept.uri, reused: true }, runId);
        assert.ok((await getText(summary.htmlReportUri!)).includes(`profiled by an earlier run and kept at <code>${kept.uri}</code>`), runId);
        const { keptProfile: _, ...stats } = baseline;
        assert.deepEqual(stats, workerReport.baseline, runId);
        for (const key of ['features', 'verdict', 'score', 'driftedFeatures', 'capture', 'referenceCount', 'currentCount']) {
          assert.deepEqual(report[key], workerReport[key], `${runId} ${key}`);
        }
      }
    } finally {
      await put(splitKey, split);
    }
  });

  it('a kept profile for other limits is another file; a damaged one is profiled over and written anew', async () => {
    const keptUri = async (runId: string, drift: PipelineConfigInput['drift']) =>
      ((await getJson((await runDetectDrift(runId, drift)).reportUri!)).baseline as { keptProfile: { uri: string; reused: boolean } }).keptProfile;
    const usual = await keptUri('run-keep-usual', { keepBaselineProfile: true });
    assert.equal(usual.reused, true);
    const otherLimits = await keptUri('run-keep-limits', { keepBaselineProfile: true, maxCategories: 500 });
    assert.deepEqual([otherLimits.reused, otherLimits.uri === usual.uri], [false, false]);
    const [, , key] = /^s3:\/\/([^/]+)\/(.*)$/.exec(usual.uri)!;
    await put(key!, '{"identity":');
    const afterDamage = await runDetectDrift('run-keep-damaged', { keepBaselineProfile: true });
    const report = await getJson(afterDamage.reportUri!);
    assert.deepEqual((report.baseline as Record<string, unknown>).keptProfile, { uri: usual.uri, reused: false });
    assert.deepEqual(report.features, workerReport.features);
    assert.equal((await keptUri('run-keep-repaired', { keepBaselineProfile: true })).reused, true);
  });

  it('an empty window is insufficient data, in the worker and in a job', async () => {
    for (const [runId, drift] of [['run-empty', {}], ['run-empty-job', { processingJobAboveBytes: 1, processingJob: { image: DRIFT_IMAGE } }]] as const) {
      const summary = await runDetectDrift(runId, drift, '2027-01-01T00:00:00.000Z');
      assert.equal(summary.verdict, 'insufficient_data', runId);
      assert.equal(summary.detected, false);
      assert.equal(summary.currentCount, 0);
      assert.equal(summary.referenceCount, 3_000);
    }
  });
});

/** V8's own wording for a JSON.parse failure, so the test does not depend on the Node version. */
function JSONParseMessage(text: string): string {
  try {
    JSON.parse(text);
  } catch (err) {
    return (err as Error).message;
  }
  return '';
}
