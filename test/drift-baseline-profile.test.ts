// The kept baseline profile (domain/drift/baseline-profile.ts): what identifies it, and what reading one
// back accepts and refuses. The activity's use of it is tested on the local stack (drift-stream.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DatasetSplitProfile, DEFAULT_PROFILE_LIMITS, type ProfiledFeature } from '../domain/drift';
import { BASELINE_PROFILE_FORMAT, baselineProfileIdentity, baselineProfileKey, keptBaselineProfile, readKeptBaselineProfile } from '../domain/drift/baseline-profile';
import { seededRandom } from '../domain/seeded-random';

const features: ProfiledFeature[] = [
  { name: 'spend', type: 'numerical' },
  { name: 'plan', type: 'categorical' },
];
const objects = [
  { uri: 's3://b/datasets/m/v1/train/part-0.csv', size: 1200 },
  { uri: 's3://b/datasets/m/v1/train/part-1.csv', size: 800 },
];
const identity = baselineProfileIdentity({ datasetVersion: 'v1', objects, features, limits: DEFAULT_PROFILE_LIMITS });
const WHERE = 's3://b/reports/m/baseline-profiles/v1/kept.json';

/** A split of `rows` rows, past the kept values' limit so the profile holds a sketch too. */
function splitProfile(rows: number): DatasetSplitProfile {
  const random = seededRandom(5);
  const fold = new DatasetSplitProfile({ features, seed: 1 });
  for (let r = 0; r < rows; r++) fold.addLine(`${r % 2},${(random() * 100).toFixed(3)},${['basic', 'pro', 'team'][r % 3]}`, 'train.csv', r + 1);
  fold.addLine('1,2', 'train.csv', rows + 1);
  return fold;
}

describe('kept baseline profile', () => {
  it('is keyed by everything the profile is made from, and nothing else', () => {
    const key = baselineProfileKey(identity);
    assert.match(key, /^[0-9a-f]{32}$/);
    // The same identity however its parts were spelled: limits in another key order, extra fields dropped.
    const limits = { categories: DEFAULT_PROFILE_LIMITS.categories, distinctValues: DEFAULT_PROFILE_LIMITS.distinctValues, exactValues: DEFAULT_PROFILE_LIMITS.exactValues };
    const respelled = baselineProfileIdentity({ datasetVersion: 'v1', objects: objects.map((o) => ({ ...o, etag: 'x' })), features, limits });
    assert.equal(baselineProfileKey(respelled), key);
    const others = [
      baselineProfileIdentity({ datasetVersion: 'v2', objects, features, limits: DEFAULT_PROFILE_LIMITS }),
      baselineProfileIdentity({ datasetVersion: 'v1', objects: [objects[1]!, objects[0]!], features, limits: DEFAULT_PROFILE_LIMITS }),
      baselineProfileIdentity({ datasetVersion: 'v1', objects: [{ ...objects[0]!, size: 1201 }, objects[1]!], features, limits: DEFAULT_PROFILE_LIMITS }),
      baselineProfileIdentity({ datasetVersion: 'v1', objects, features: [features[0]!, { name: 'plan', type: 'numerical' }], limits: DEFAULT_PROFILE_LIMITS }),
      baselineProfileIdentity({ datasetVersion: 'v1', objects, features, limits: { ...DEFAULT_PROFILE_LIMITS, categories: 10 } }),
      { ...identity, format: 'drift-baseline-profile/0' },
    ];
    assert.equal(new Set([key, ...others.map(baselineProfileKey)]).size, others.length + 1);
  });

  it('reads back as the profile and statistics it was made from', () => {
    const fold = splitProfile(12_000);
    const text = JSON.stringify(keptBaselineProfile(identity, fold));
    const read = readKeptBaselineProfile(text, identity, WHERE);
    assert.ok('reference' in read, 'reason' in read ? read.reason : '');
    assert.deepEqual(read.reference.profile.toJSON(), fold.profile.toJSON());
    assert.deepEqual(read.reference.stats, fold.stats);
    assert.equal(read.reference.stats.rows, 12_000);
    assert.equal(read.reference.stats.unreadableRows, 1);
    assert.equal(read.reference.profile.feature('spend')!.count, 12_000);
  });

  it('is refused, with the reason and the file named, when it is not one for this identity', () => {
    const good = keptBaselineProfile(identity, splitProfile(50));
    const reasonOf = (text: string, expected = identity) => {
      const read = readKeptBaselineProfile(text, expected, WHERE);
      assert.ok('reason' in read, 'accepted');
      return read.reason;
    };
    assert.match(reasonOf('{"identity":'), new RegExp(`^${WHERE} is not JSON`));
    assert.match(reasonOf('null'), /holds no "identity" and "reference"/);
    assert.match(reasonOf(JSON.stringify({ ...good, identity: { ...good.identity, format: 'drift-baseline-profile/0' } })), new RegExp(`format "drift-baseline-profile/0", not ${BASELINE_PROFILE_FORMAT}`));
    const otherLimits = baselineProfileIdentity({ datasetVersion: 'v1', objects, features, limits: { ...DEFAULT_PROFILE_LIMITS, categories: 10 } });
    assert.match(reasonOf(JSON.stringify(good), otherLimits), /was made from other objects, columns or limits/);
    assert.match(reasonOf(JSON.stringify({ ...good, reference: { ...good.reference, stats: {} } })), /reference\.stats is not a split's statistics/);
    const damaged = { ...good, reference: { ...good.reference, profile: { ...good.reference.profile, features: 'none' } } };
    assert.match(reasonOf(JSON.stringify(damaged)), new RegExp(`${WHERE} reference\\.profile`));
  });
});
