// The streaming merge against a real S3 (s3rver): versions built from a parent and new objects, the
// fixed holdout over three versions, idempotent re-runs counted in S3 writes, every input row
// accounted for, conflicts under each policy, retention and recency copies, a spilling index, and
// the channel objects (CSV parts, ManifestFile, augmented manifest, gzip).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mergeDatasetVersion } from '../activities/dataset';
import type { DatasetVersionSummary } from '../activities/types';
import { parsePipelineConfig, type PipelineConfig, type PipelineConfigInput } from '../domain/config';
import type { DatasetVersionManifest, RowRecord } from '../domain/dataset-merge/manifest';
import type { Split } from '../domain/dataset-version';
import { LOCAL_S3_CREDENTIALS, startLocalS3, type LocalS3 } from '../local/s3';

const BUCKET = 'dataset-test';
let dataDir: string;
let local: LocalS3;
let s3: S3Client;
/** S3 calls that write (PutObject, CreateMultipartUpload, UploadPart, CompleteMultipartUpload), by command name. */
const writes: string[] = [];
let prefixes = 0;

before(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'dataset-test-'));
  local = await startLocalS3({ directory: path.join(dataDir, 's3'), buckets: [BUCKET] });
  s3 = new S3Client({ region: 'us-east-1', endpoint: local.endpoint, credentials: LOCAL_S3_CREDENTIALS, forcePathStyle: true });
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      if (/^(PutObject|CreateMultipartUpload|UploadPart|CompleteMultipartUpload)Command$/.test(context.commandName ?? '')) writes.push(context.commandName!);
      return next(args);
    },
    { step: 'initialize', name: 'countWrites' },
  );
});

after(async () => {
  await local?.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** A fresh model name and prefixes, so tests do not see each other's objects. */
function scenario(dataset: Partial<PipelineConfigInput['dataset']> = {}): PipelineConfig {
  const n = ++prefixes;
  return parsePipelineConfig({
    model: `model-${n}`,
    roleArn: 'arn:aws:iam::000000000000:role/SageMakerRetraining',
    predictorType: 'binary_classifier',
    endpoint: { name: 'e', captureS3Uri: `s3://${BUCKET}/capture` },
    dataset: {
      rootS3Uri: `s3://${BUCKET}/datasets`,
      newDataS3Uri: `s3://${BUCKET}/labels-${n}`,
      schema: { label: { name: 'y', classes: 2 }, features: [{ name: 'a', type: 'numerical' }, { name: 'b', type: 'numerical' }] },
      ...dataset,
    },
    training: { image: 'img', outputS3Uri: `s3://${BUCKET}/training` },
    evaluation: { image: 'img', outputS3Uri: `s3://${BUCKET}/evaluation` },
    reportsS3Uri: `s3://${BUCKET}/reports`,
  });
}

async function putLabels(config: PipelineConfig, name: string, lines: string[]): Promise<void> {
  const key = `${config.dataset.newDataS3Uri.slice(`s3://${BUCKET}/`.length)}/${name}`;
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: lines.join('\n') + '\n' }));
}

async function text(uri: string): Promise<string> {
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri)!;
  const object = await s3.send(new GetObjectCommand({ Bucket: m[1], Key: m[2] }));
  return object.Body!.transformToString();
}

async function manifestOf(summary: DatasetVersionSummary): Promise<DatasetVersionManifest> {
  return JSON.parse(await text(summary.manifestUri)) as DatasetVersionManifest;
}

async function rowsOf(manifest: DatasetVersionManifest, split: Split): Promise<RowRecord[]> {
  return (await text(manifest.splits[split].rowsUri)).split('\n').filter(Boolean).map((l) => JSON.parse(l) as RowRecord);
}

async function csvLines(manifest: DatasetVersionManifest, split: Split): Promise<string[]> {
  const lines: string[] = [];
  for (const o of manifest.splits[split].objects) lines.push(...(await text(o.uri)).split('\n').filter(Boolean));
  return lines;
}

const merge = (config: PipelineConfig, parent: DatasetVersionSummary | null) => mergeDatasetVersion(s3, { config, parentManifestUri: parent?.manifestUri ?? null });

/** Rows of distinct features: label = i % 2. */
const distinct = (from: number, count: number) => Array.from({ length: count }, (_, i) => `${(from + i) % 2},${from + i},${(from + i) * 0.5}`);

describe('a dataset version', () => {
  it('accounts for every input row in exactly one place, and records the equation', async () => {
    const config = scenario();
    await putLabels(config, 'a.csv', [...distinct(0, 200), '1,0,0', '1,0,0', '', 'x,1,2', '1,2', '0,1,abc']);
    const v1 = await merge(config, null);
    const m = await manifestOf(v1);
    assert.equal(m.counts.inputs.newLines, 205);
    assert.equal(m.counts.blankLines, 1);
    // '1,0,0' twice: distinct(0,..) holds '0,0,0', so the key conflicts; quarantine-conflicts holds both lines back.
    assert.equal(m.counts.conflicts, 1);
    assert.deepEqual(m.counts.quarantinedByReason, { bad_label: 1, wrong_width: 1, not_a_number: 1, conflicting_label: 3 });
    assert.equal(m.counts.quarantined, 6);
    assert.equal(m.counts.total, 199);
    assert.ok(m.conservation.holds, m.conservation.equation);
    const { train, validation, holdout } = m.counts.splits;
    assert.equal(train + validation + holdout + m.counts.duplicates + m.counts.overruled + m.counts.quarantined + m.counts.retired.byAge + m.counts.retired.byRowCap, 205);
    // The quarantine object holds exactly the rejected lines, each with its source location and reason.
    const quarantined = (await text(m.quarantineUri!)).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { source: { uri: string; line: number }; code: string; reason: string; line: string });
    assert.equal(quarantined.length, m.counts.quarantined);
    const wrongWidth = quarantined.find((q) => q.code === 'wrong_width')!;
    assert.equal(wrongWidth.source.line, 205);
    assert.match(wrongWidth.source.uri, /a\.csv$/);
    assert.equal(wrongWidth.line, '1,2');
    // Each split's CSV and row records agree, and the CSV is label first.
    for (const split of ['train', 'validation', 'holdout'] as const) {
      const csv = await csvLines(m, split);
      const rows = await rowsOf(m, split);
      assert.equal(csv.length, m.counts.splits[split]);
      assert.deepEqual(csv, rows.map((r) => `${r.label},${r.features}`));
    }
    assert.equal(m.classBalance['0']! + m.classBalance['1']!, m.counts.total);
  });

  it('keeps its holdout across three versions: no row leaves holdout, and new rows fall where their hash says', async () => {
    const config = scenario({ conflictPolicy: 'newest-wins' });
    await putLabels(config, 'v1.csv', distinct(0, 400));
    const v1 = await merge(config, null);
    const m1 = await manifestOf(v1);
    const holdout1 = new Set((await rowsOf(m1, 'holdout')).map((r) => r.key));
    assert.ok(holdout1.size > 40 && holdout1.size < 130, `holdout of 400 rows at 0.2: ${holdout1.size}`);

    // v2: new rows, and every holdout row of v1 relabelled (newest wins, but it stays in holdout).
    const relabel = (await rowsOf(m1, 'holdout')).map((r) => `${1 - r.label},${r.features}`);
    await putLabels(config, 'v2.csv', [...distinct(400, 300), ...relabel]);
    const v2 = await merge(config, v1);
    const m2 = await manifestOf(v2);
    assert.equal(m2.parent, v1.versionId);
    assert.equal(m2.counts.relabelled, holdout1.size);
    const holdout2 = new Set((await rowsOf(m2, 'holdout')).map((r) => r.key));
    for (const key of holdout1) assert.ok(holdout2.has(key), `row ${key} left holdout`);

    // v3: a smaller configured holdout share cannot shrink the holdout either.
    const smaller = { ...config, dataset: { ...config.dataset, holdoutShare: 0.05 } };
    await putLabels(config, 'v3.csv', distinct(700, 300));
    const v3 = await merge(smaller, v2);
    const m3 = await manifestOf(v3);
    assert.equal(m3.holdout.share, 0.2);
    const train3 = new Set((await rowsOf(m3, 'train')).map((r) => r.key));
    const holdout3 = new Set((await rowsOf(m3, 'holdout')).map((r) => r.key));
    for (const key of holdout2) {
      assert.ok(holdout3.has(key), `row ${key} left holdout in v3`);
      assert.ok(!train3.has(key), `row ${key} moved from holdout into train`);
    }
    for (const m of [m1, m2, m3]) assert.ok(m.conservation.holds, m.conservation.equation);
    assert.equal(m3.counts.total, 1000);
  });

  it('is content-addressed: the same inputs give the same id and write nothing', async () => {
    const config = scenario();
    await putLabels(config, 'a.csv', distinct(0, 300));
    const first = await merge(config, null);
    assert.equal(first.reused, false);
    const before = writes.length;
    const again = await merge(config, null);
    assert.equal(again.versionId, first.versionId);
    assert.equal(again.reused, true);
    assert.equal(writes.length, before, `a re-run wrote ${writes.slice(before).join(', ')}`);
    // New data makes a new version; the old one is untouched.
    await putLabels(config, 'b.csv', distinct(300, 10));
    const next = await merge(config, null);
    assert.notEqual(next.versionId, first.versionId);
  });

  for (const policy of ['keep-existing', 'newest-wins', 'quarantine-conflicts'] as const) {
    it(`settles conflicting labels under ${policy}`, async () => {
      const config = scenario({ conflictPolicy: policy });
      await putLabels(config, 'a.csv', ['0,1,1', '0,2,2']);
      const v1 = await merge(config, null);
      // Later: 1,1 relabelled 1 (against the parent); 3,3 labelled 0 then 1 (new against new); 2,2 repeated.
      await putLabels(config, 'b.csv', ['1,1,1', '0,3,3', '0,2,2']);
      await putLabels(config, 'c.csv', ['1,3,3']);
      const v2 = await merge(config, v1);
      const m = await manifestOf(v2);
      const all = [...(await rowsOf(m, 'train')), ...(await rowsOf(m, 'validation')), ...(await rowsOf(m, 'holdout'))];
      const labelOf = (features: string) => all.find((r) => r.features === features)?.label;
      assert.equal(m.counts.conflicts, 2);
      assert.equal(m.counts.duplicates, 1);
      if (policy === 'keep-existing') {
        assert.equal(labelOf('1,1'), 0);
        assert.equal(labelOf('3,3'), 0);
        assert.equal(m.counts.overruled, 2);
      } else if (policy === 'newest-wins') {
        // c.csv comes after b.csv (same record time from a quick succession of uploads, then source order).
        assert.equal(labelOf('1,1'), 1);
        assert.equal(labelOf('3,3'), 1);
        assert.equal(m.counts.relabelled, 1);
        assert.equal(m.counts.overruled, 2);
      } else {
        assert.equal(labelOf('1,1'), 0);
        assert.equal(labelOf('3,3'), undefined);
        assert.equal(m.counts.quarantinedByReason.conflicting_label, 3);
        const reasons = (await text(m.quarantineUri!)).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { reason: string; source: { uri: string } });
        assert.ok(reasons.every((r) => /^conflicting_label: key [0-9a-f]{32} matches/.test(r.reason)));
        assert.ok(reasons.some((r) => /c\.csv$/.test(r.source.uri)));
      }
      assert.ok(m.conservation.holds, m.conservation.equation);
    });
  }

  it('spills its index to disk past the memory bound and writes the same rows, in the same order', async () => {
    const inMemory = scenario();
    const spilling = scenario({ merge: { memoryBytes: 1024 * 1024 } });
    const lines = [...distinct(0, 30_000), ...distinct(0, 5_000)];
    await putLabels(inMemory, 'a.csv', lines);
    await putLabels(spilling, 'a.csv', lines);
    const a = await manifestOf(await merge(inMemory, null));
    const b = await manifestOf(await merge(spilling, null));
    assert.equal(a.merge.spilled, false);
    assert.equal(b.merge.spilled, true);
    assert.ok(b.merge.partitions > 1);
    assert.equal(b.counts.duplicates, 5_000);
    for (const split of ['train', 'validation', 'holdout'] as const) assert.deepEqual(await csvLines(b, split), await csvLines(a, split));
  });

  it('holds and spills wide text (three UTF-8 bytes a character) unchanged', async () => {
    // Held lines are UTF-8 bytes in one buffer sized for the budget's worth of ASCII: keys of CJK text
    // outgrow it before the budget is reached (16 MiB: a 4 MiB buffer, full at about 10,000 of these
    // lines, the budget at about 17,000), so it grows, then spills.
    const config = (memoryBytes?: number) =>
      scenario({ input: { format: 'jsonl', fields: { key: 'id' } }, dedupKey: 'record-key', ...(memoryBytes ? { merge: { memoryBytes } } : {}) });
    const lines = Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ id: `${'鍵値'.repeat(60)}-${i % 18_000}`, y: i % 2, a: i % 18_000, b: (i % 18_000) / 4 }));
    const inMemory = config();
    const spilling = config(16 * 1024 * 1024);
    await putLabels(inMemory, 'a.jsonl', lines);
    await putLabels(spilling, 'a.jsonl', lines);
    const a = await manifestOf(await merge(inMemory, null));
    const b = await manifestOf(await merge(spilling, null));
    assert.equal(a.merge.spilled, false);
    assert.equal(b.merge.spilled, true);
    for (const m of [a, b]) {
      assert.equal(m.counts.duplicates, 2_000);
      assert.equal(m.splits.train.rows + m.splits.validation.rows + m.splits.holdout.rows, 18_000);
      assert.ok(m.conservation.holds, m.conservation.equation);
    }
    for (const split of ['train', 'validation', 'holdout'] as const) assert.deepEqual(await csvLines(b, split), await csvLines(a, split));
  });

  it('reads JSON Lines with record keys and times: retention by age, then recency copies in train only', async () => {
    const day = (d: number) => new Date(Date.UTC(2026, 0, 1) + d * 86_400_000).toISOString();
    const config = scenario({
      input: { format: 'jsonl', fields: { key: 'id', time: 'at' } },
      dedupKey: 'record-key',
      conflictPolicy: 'newest-wins',
      retention: { maxAgeDays: 30, recencyWeights: { halfLifeDays: 10, maxCopies: 4 } },
    });
    // One customer a day for 100 days; customer 99 is relabelled on day 100 with new features.
    const lines = Array.from({ length: 100 }, (_, d) => JSON.stringify({ id: `c${d}`, y: d % 2, a: d, b: d / 2, at: day(d) }));
    lines.push(JSON.stringify({ id: 'c99', y: 0, a: 99.5, b: 1, at: day(100) }), '{"id": "c7", "y": 1, "a": 1', JSON.stringify({ id: 'c8', y: 1, a: 1, b: 2 }));
    await putLabels(config, 'a.jsonl', lines);
    const m = await manifestOf(await merge(config, null));
    assert.ok(m.conservation.holds, m.conservation.equation);
    assert.equal(m.retention.newestRecordTime, day(100));
    assert.equal(m.retention.oldestKept, day(70));
    assert.equal(m.counts.retired.byAge, 70);
    assert.equal(m.counts.total, 30);
    assert.equal(m.counts.overruled, 1);
    assert.deepEqual(m.counts.quarantinedByReason, { truncated_json: 1, bad_time: 1 });
    const train = await rowsOf(m, 'train');
    const c99 = [...train, ...(await rowsOf(m, 'validation')), ...(await rowsOf(m, 'holdout'))].filter((r) => r.key === 'c99' && !r.copy);
    assert.deepEqual(c99.map((r) => [r.features, r.label, r.time]), [['99.5,1', 0, day(100)]]);
    // Copies: 4 for the newest rows, fewer with age, one at least; only in train.
    const lines99 = train.filter((r) => r.key === 'c99');
    if (lines99.length) assert.equal(lines99.length, 4);
    assert.equal(m.counts.trainLines, train.length);
    assert.equal((await csvLines(m, 'train')).length, train.length);
    assert.ok(m.counts.trainLines > m.counts.splits.train);
    assert.equal((await csvLines(m, 'holdout')).length, m.counts.splits.holdout);

    // The next version caps the rows at the 10 newest.
    const capped = { ...config, dataset: { ...config.dataset, retention: { maxRows: 10 } } };
    const v2 = await manifestOf(await merge(capped, await merge(config, null)));
    assert.equal(v2.counts.total, 10);
    assert.equal(v2.counts.retired.byRowCap, 20);
    // Kept: c99 (day 100) and days 90-98; the cutoff lies just past day 89.
    assert.ok(v2.retention.rowCapKeepsFrom! > day(89) && v2.retention.rowCapKeepsFrom! <= day(90), v2.retention.rowCapKeepsFrom!);
    assert.ok(v2.conservation.holds, v2.conservation.equation);
  });

  it('reads Ground Truth output manifests, with label-quality filters counted as quarantined', async () => {
    // test/fixtures/labelled-data/churn-review-output.manifest: the labelled-data fixture in Ground Truth's output format.
    const config = scenario({
      schema: {
        label: { name: 'churn', classes: 2, classNames: ['stays', 'churns'] },
        features: ['account_length', 'day_mins', 'eve_mins', 'cust_serv_calls'].map((name) => ({ name, type: 'numerical' as const })),
      },
      input: { format: 'ground-truth-manifest', fields: { label: 'churn-review', key: 'id' }, labelQuality: { minConfidence: 0.7 } },
      dedupKey: 'record-key',
    });
    const fixture = await readFile(path.join(__dirname, 'fixtures', 'labelled-data', 'churn-review-output.manifest'), 'utf8');
    await putLabels(config, 'output.manifest', fixture.trim().split('\n'));
    const m = await manifestOf(await merge(config, null));
    assert.ok(m.conservation.holds, m.conservation.equation);
    assert.equal(m.counts.inputs.newLines, 6);
    // Two of its six labels are below 0.7 confidence (0.62, and 0.0 from a single worker): filtered, counted, kept in the quarantine object.
    assert.equal(m.counts.quarantinedByReason.low_confidence, 2);
    const keys = [...(await rowsOf(m, 'train')), ...(await rowsOf(m, 'validation')), ...(await rowsOf(m, 'holdout'))].map((r) => r.key).sort();
    assert.ok(keys.includes('acct-0001') && !keys.includes('acct-0003'));
    assert.equal(keys.length, m.counts.total);
  });

  it('writes objects larger than a part as streamed multipart uploads', async () => {
    const config = scenario();
    await putLabels(config, 'big.csv', distinct(0, 100_000));
    const before = writes.length;
    const m = await manifestOf(await merge(config, null));
    const written = writes.slice(before);
    assert.ok(written.filter((w) => w === 'UploadPartCommand').length >= 3, written.join(' '));
    assert.ok(written.includes('CompleteMultipartUploadCommand'));
    const rows = await rowsOf(m, 'train');
    assert.equal(rows.length, m.counts.splits.train);
    assert.ok(m.objects.find((o) => o.uri === m.splits.train.rowsUri)!.bytes > 5 * 1024 * 1024);
    assert.equal((await csvLines(m, 'train')).length, m.counts.splits.train);
  });
});
