// The merge's pure decisions: row keys and placement (equal to the earlier dataset-version.ts digests),
// per-key resolution under each policy with every observation given exactly one fate, the retention
// cutoffs and copies, the channel a version's objects call for, and the conservation equation.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { conservation, countQuarantined, emptyCounts } from '../domain/dataset-merge/accounting';
import { channelSourceFor, trainingChannel } from '../domain/dataset-merge/channels';
import { contentKey, featuresText, partitionOf, placementHash, splitFor } from '../domain/dataset-merge/keys';
import { isNewer, resolveKey, type Observation } from '../domain/dataset-merge/resolve';
import { DAY_MS, oldestKept, RowCapCutoff, trainCopies } from '../domain/dataset-merge/retention';
import { assignSplit, rowKey, type ConflictPolicy } from '../domain/dataset-version';

const sha = (t: string) => createHash('sha256').update(t, 'utf8').digest('hex');
const shares = { validationShare: 0.1, holdoutShare: 0.2 };

describe('keys and placement', () => {
  it('agree with the digests versions were written with before', () => {
    for (const features of [[1, 2, 3], [0.1 + 0.2, -0, 1e-300], [5]]) {
      const text = featuresText(features);
      assert.equal(contentKey(text, sha), rowKey({ label: 0, features }));
      const key = contentKey(text, sha);
      assert.equal(splitFor(placementHash(key, sha), shares), assignSplit(key, shares));
    }
    for (const recordKey of ['customer-17', 'a\tb', '42']) assert.equal(splitFor(placementHash(recordKey, sha), shares), assignSplit(recordKey, shares));
  });

  it('draw splits in the configured shares, and partitions as ordered ranges of the hash', () => {
    const counts = { train: 0, validation: 0, holdout: 0 };
    let last = 0;
    const hashes = Array.from({ length: 20_000 }, (_, i) => placementHash(`row-${i}`, sha)).sort();
    for (const h of hashes) {
      counts[splitFor(h, shares)]++;
      const p = partitionOf(h, 7);
      assert.ok(p >= last && p < 7, 'partitions follow hash order');
      last = p;
    }
    assert.ok(Math.abs(counts.holdout / 20_000 - 0.2) < 0.015, JSON.stringify(counts));
    assert.ok(Math.abs(counts.validation / 20_000 - 0.1) < 0.015, JSON.stringify(counts));
  });
});

let order = 0;
function obs(label: number, o: Partial<Observation> = {}): Observation {
  const key = o.key ?? 'k'.repeat(32).replace(/k/g, 'a');
  return { key, hash: key, label, features: '1,2', time: null, order: order++, parentSplit: null, origin: `s3://b/new.csv:${order}`, ...o };
}

/** Every observation has exactly one fate, and at most one is kept. */
function assertAccounted(observations: Observation[], policy: ConflictPolicy) {
  const r = resolveKey(observations, policy, shares);
  assert.equal(r.fates.length, observations.length);
  assert.equal(new Set(r.fates.map((f) => f.observation)).size, observations.length);
  assert.equal(r.fates.filter((f) => f.fate.fate === 'kept').length, r.kept ? 1 : 0);
  return r;
}

describe('resolveKey', () => {
  it('collapses identical rows, and a parent row keeps its split whatever the hash says', () => {
    const parent = obs(1, { parentSplit: 'holdout' });
    const r = assertAccounted([parent, obs(1), obs(1)], 'newest-wins');
    assert.equal(r.conflict, false);
    assert.equal(r.kept!.observation, parent);
    assert.equal(r.kept!.split, 'holdout');
    assert.equal(r.kept!.isNew, false);
    assert.deepEqual(r.fates.map((f) => f.fate.fate), ['kept', 'duplicate', 'duplicate']);
  });

  it('newest-wins: record time first, then input order; a relabelled holdout row stays in holdout', () => {
    const parent = obs(0, { parentSplit: 'holdout', time: 100 });
    const older = obs(1, { time: 50 });
    const newer = obs(1, { time: 200 });
    const r = assertAccounted([parent, older, newer], 'newest-wins');
    assert.equal(r.kept!.observation, older, 'the first line with the winning content stands for it');
    assert.equal(r.kept!.split, 'holdout');
    assert.equal(r.kept!.relabelled, true);
    assert.deepEqual(r.fates.map((f) => f.fate.fate), ['overruled', 'kept', 'duplicate']);
    // Same time: the later input wins; an unknown time is older than any.
    const a = obs(0, { time: 5 });
    const b = obs(1, { time: 5 });
    assert.equal(isNewer(b, a), true);
    assert.equal(isNewer(obs(0, { time: null }), obs(1, { time: -1 })), false);
    assert.equal(assertAccounted([b, a], 'newest-wins').kept!.observation.label, 1, 'input order, not array order');
  });

  it('keep-existing: the parent, or the earliest line', () => {
    const parent = obs(0, { parentSplit: 'train' });
    assert.equal(assertAccounted([parent, obs(1, { time: 999 })], 'keep-existing').kept!.observation, parent);
    const first = obs(1);
    const r = assertAccounted([first, obs(0), obs(0)], 'keep-existing');
    assert.equal(r.kept!.observation, first);
    assert.deepEqual(r.fates.map((f) => f.fate.fate), ['kept', 'overruled', 'overruled']);
  });

  it('quarantine-conflicts: the parent stays and disagreeing lines are held back, whatever their order', () => {
    const parent = obs(0, { parentSplit: 'validation' });
    const r = assertAccounted([parent, obs(1), obs(0), obs(1)], 'quarantine-conflicts');
    assert.equal(r.kept!.observation, parent);
    assert.deepEqual(r.fates.map((f) => f.fate.fate), ['kept', 'quarantined', 'duplicate', 'quarantined']);
    const reason = r.fates[1]!.fate;
    assert.ok(reason.fate === 'quarantined' && /matches the parent version's label 0; this line has label 1/.test(reason.reason));
    // No parent: every line of the key is held back, and nothing is kept.
    const lines = [obs(1), obs(0)];
    const none = assertAccounted(lines, 'quarantine-conflicts');
    assert.equal(none.kept, null);
    assert.deepEqual(none.fates.map((f) => f.fate.fate), ['quarantined', 'quarantined']);
    assert.deepEqual(assertAccounted([...lines].reverse(), 'quarantine-conflicts').fates.map((f) => f.fate.fate), ['quarantined', 'quarantined']);
  });

  it('a record key with different features is a conflict too', () => {
    const r = assertAccounted([obs(1, { key: 'customer-1', features: '1,2' }), obs(1, { key: 'customer-1', features: '3,4', time: 9 })], 'newest-wins');
    assert.equal(r.conflict, true);
    assert.equal(r.kept!.observation.features, '3,4');
  });
});

describe('retention', () => {
  it('ages count back from the newest record time, and rows without a time are never too old', () => {
    assert.equal(oldestKept({ maxAgeDays: 30 }, 100 * DAY_MS), 70 * DAY_MS);
    assert.equal(oldestKept({}, 100 * DAY_MS), null);
    assert.equal(oldestKept({ maxAgeDays: 30 }, null), null);
  });

  it('recency copies halve each half-life, never below one', () => {
    const policy = { recencyWeights: { halfLifeDays: 10, maxCopies: 4 } };
    const newest = 1000 * DAY_MS;
    assert.equal(trainCopies(policy, newest, newest), 4);
    assert.equal(trainCopies(policy, newest - 10 * DAY_MS, newest), 2);
    assert.equal(trainCopies(policy, newest - 20 * DAY_MS, newest), 1);
    assert.equal(trainCopies(policy, newest - 500 * DAY_MS, newest), 1);
    assert.equal(trainCopies(policy, null, newest), 1);
    assert.equal(trainCopies({}, newest, newest), 1);
  });

  /** Runs the cutoff search over times as the merge does, pass by pass. */
  function cutoffOf(times: (number | null)[], maxRows: number) {
    const timed = times.filter((t): t is number => t !== null);
    const range = timed.length ? { min: Math.min(...timed), max: Math.max(...timed) } : null;
    const search = new RowCapCutoff(maxRows, range, timed.length, times.length - timed.length);
    let step = search.settled;
    let passes = 0;
    while (!step?.done) {
      const counts = new Float64Array(RowCapCutoff.BUCKETS);
      for (const t of timed) {
        const b = search.bucketOf(t);
        if (b >= 0) counts[b]!++;
      }
      step = search.step(counts);
      passes++;
    }
    const kept = times.filter((t) => (t === null ? step.keepUntimed : step.keepFrom === null || t >= step.keepFrom)).length;
    return { ...step, kept, passes };
  }

  it('a row cap keeps the newest rows; rows sharing the cutoff instant go together', () => {
    const year = 365 * DAY_MS;
    const times = Array.from({ length: 10_000 }, (_, i) => 1_700_000_000_000 + Math.floor((i * year) / 10_000));
    const c = cutoffOf(times, 2500);
    assert.equal(c.kept, 2500);
    assert.ok(c.keepFrom! > times[7499]! && c.keepFrom! <= times[7500]!);
    assert.ok(c.passes <= 3, `${c.passes} passes`);
    // Ties at the boundary: 3 rows at t=5 do not fit in the 2 places left, so none is kept.
    const tied = cutoffOf([1, 2, 5, 5, 5, 9, 9], 4);
    assert.equal(tied.kept, 2);
    assert.equal(tied.keepFrom, 6);
    // Everything fits: untimed rows too, if there is room; they count as the oldest.
    assert.deepEqual(cutoffOf([1, 2, null], 3), { done: true, keepFrom: null, keepUntimed: true, kept: 3, passes: 0 });
    assert.equal(cutoffOf([1, 2, null], 2).keepUntimed, false);
    assert.equal(cutoffOf([1, 2, null, null], 2).kept, 2);
  });
});

describe('channels', () => {
  const settings = { format: 'csv' as const, compression: 'None' as const, s3DataType: 'auto' as const, recordWrapper: 'None' as const };
  const written = { csvPrefix: 's3://b/v/csv/train/', csvObjects: 1, manifestUri: 's3://b/v/channels/train.manifest', augmentedManifestUri: 's3://b/v/rows/train.jsonl' };

  it('one object goes by prefix, many by a manifest file, an augmented manifest with its attributes', () => {
    assert.deepEqual(channelSourceFor(settings, written), { s3DataType: 'S3Prefix', s3Uri: written.csvPrefix, contentType: 'text/csv', compression: 'None', objects: 1 });
    assert.equal(channelSourceFor(settings, { ...written, csvObjects: 3 }).s3DataType, 'ManifestFile');
    assert.equal(channelSourceFor({ ...settings, s3DataType: 'S3Prefix' }, { ...written, csvObjects: 3 }).s3DataType, 'S3Prefix');
    const augmented = channelSourceFor({ ...settings, format: 'augmented-manifest', recordWrapper: 'RecordIO' }, written);
    assert.deepEqual(augmented.attributeNames, ['features', 'label']);
    assert.equal(augmented.contentType, 'application/x-recordio');
  });

  it('the training channel carries the mode, distribution, compression and wrapper', () => {
    const source = channelSourceFor({ ...settings, compression: 'Gzip' }, written);
    const pipe = trainingChannel('train', source, { inputMode: 'Pipe', distribution: 'ShardedByS3Key', recordWrapper: 'RecordIO' });
    assert.deepEqual(pipe, {
      ChannelName: 'train',
      ContentType: 'text/csv',
      InputMode: 'Pipe',
      CompressionType: 'Gzip',
      RecordWrapperType: 'RecordIO',
      DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: written.csvPrefix, S3DataDistributionType: 'ShardedByS3Key' } },
    });
    assert.equal(trainingChannel('train', source, { inputMode: 'File', distribution: 'FullyReplicated', recordWrapper: 'RecordIO' }).RecordWrapperType, 'None');
  });
});

describe('conservation', () => {
  it('holds when every input row is in one place, and says which terms do not add up otherwise', () => {
    const c = emptyCounts();
    c.inputs = { parentRows: 10, newLines: 7 };
    c.splits = { train: 8, validation: 2, holdout: 3 };
    c.total = 13;
    c.duplicates = 1;
    c.overruled = 1;
    countQuarantined(c, 'bad_label');
    c.retired.byAge = 1;
    assert.deepEqual(conservation(c), {
      holds: true,
      inputs: 17,
      accounted: 17,
      equation: '10 parent + 7 new = 8 train + 2 validation + 3 holdout + 1 duplicates + 1 overruled + 1 quarantined + 1 retired',
    });
    c.duplicates = 0;
    const broken = conservation(c);
    assert.equal(broken.holds, false);
    assert.match(broken.equation, /does not hold: 17 read, 16 accounted for/);
  });
});
