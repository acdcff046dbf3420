// Feature profiles and the drift methods on them: merging equals one pass, JSON round-trips, the switch
// from exact values to sketches at 10,000, results equal to the array versions wherever both sides are
// exact, and the stated error bound holding on a million values where they are not.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CategoricalProfile,
  compareProfiles,
  DatasetProfile,
  driftMethods,
  kolmogorovSmirnov,
  modelMonitorStatistics,
  normalisedWasserstein,
  NumericalProfile,
  populationStabilityIndex,
  type DriftOptions,
} from '../domain/drift';
import { seededRandom } from '../domain/seeded-random';

const random = seededRandom(20_261_124);
const normal = (r: () => number = random) => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
const draw = <T>(n: number, f: () => T): T[] => Array.from({ length: n }, f);

function numerical(values: readonly number[], seed = 1): NumericalProfile {
  const profile = new NumericalProfile(undefined, seed);
  for (const v of values) profile.add(v);
  return profile;
}

function categorical(values: readonly string[]): CategoricalProfile {
  const profile = new CategoricalProfile();
  for (const v of values) profile.add(v);
  return profile;
}

function inChunks(values: readonly number[], sizes: number[]): NumericalProfile {
  const merged = new NumericalProfile(undefined, 100);
  let at = 0;
  sizes.forEach((size, i) => {
    merged.merge(numerical(values.slice(at, at + size), 200 + i));
    at += size;
  });
  assert.equal(at, values.length);
  return merged;
}

/** Largest |F_sketch − F_exact| over the sample's own values, as a share. */
function largestRankError(profile: NumericalProfile, values: readonly number[]): number {
  const sorted = Float64Array.from(values).sort();
  const sketch = profile.sketch();
  let worst = 0;
  for (let i = 0; i < sorted.length; i += Math.max(1, Math.floor(sorted.length / 2000))) {
    let upper = i;
    while (upper + 1 < sorted.length && sorted[upper + 1] === sorted[i]) upper++;
    worst = Math.max(worst, Math.abs(sketch.cdf(sorted[i]!) - (upper + 1) / sorted.length));
  }
  return worst;
}

const within = (x: number, [low, high]: [number, number], what: string) => assert.ok(x >= low - 1e-12 && x <= high + 1e-12, `${what}: ${x} outside [${low}, ${high}]`);

describe('numerical profiles', () => {
  it('merged from chunks equal one pass: counts, extremes, moments, distinct counts, exact values', () => {
    const values = draw(9_000, () => Math.round(normal() * 4) / 2);
    values.push(NaN, Infinity);
    const single = numerical(values);
    const merged = inChunks(values, [1, 2_000, 0, 3_500, 3_501]);
    for (const p of [single, merged]) {
      assert.equal(p.count, 9_000);
      assert.equal(p.missing, 2);
    }
    assert.equal(merged.min, single.min);
    assert.equal(merged.max, single.max);
    assert.equal(merged.integral, false);
    assert.ok(Math.abs(merged.mean - single.mean) <= 1e-12 * Math.max(1, Math.abs(single.mean)));
    assert.ok(Math.abs(merged.std - single.std) <= 1e-12 * single.std);
    assert.deepEqual([...merged.values()!], [...single.values()!].filter(Number.isFinite));
    assert.deepEqual(merged.toJSON().distinct, single.toJSON().distinct);
  });

  it('past 10,000 values merged and single-pass sketches both stay within the stated rank error', () => {
    const values = draw(250_000, () => normal());
    const single = numerical(values);
    const merged = inChunks(values, [60_000, 9_000, 1_000, 100_000, 80_000]);
    for (const [name, p] of [['single', single], ['merged', merged]] as const) {
      assert.equal(p.values(), null, name);
      assert.equal(p.distinctCounts(), null, name);
      const bound = p.sketch().normalizedRankError;
      assert.ok(bound > 0 && bound < 0.002, `${name}: bound ${bound}`);
      assert.ok(largestRankError(p, values) <= bound, `${name}: rank error ${largestRankError(p, values)} above ${bound}`);
    }
    assert.equal(merged.count, single.count);
    assert.ok(Math.abs(merged.mean - single.mean) < 1e-12);
  });

  it('keeps its values up to 10,000 and switches to the sketch at 10,001', () => {
    const values = draw(10_001, () => normal());
    const atLimit = numerical(values.slice(0, 10_000));
    assert.equal(atLimit.values()!.length, 10_000);
    const past = numerical(values);
    assert.equal(past.values(), null);
    assert.equal(past.sketch().count, 10_001);
    // Merging two halves that fit stays exact; one more value does not.
    const halves = inChunks(values.slice(0, 10_000), [5_000, 5_000]);
    assert.equal(halves.values()!.length, 10_000);
    assert.equal(inChunks(values, [5_000, 5_001]).values(), null);
  });

  it('round-trips through JSON, exact or sketched, and compares the same afterwards', () => {
    for (const n of [0, 7, 10_000, 60_000]) {
      const profile = numerical(draw(n, () => normal() + 3), 42);
      profile.addMissing(3);
      const json = JSON.parse(JSON.stringify(profile.toJSON()));
      const read = NumericalProfile.fromJSON(json, profile.limits, 'test');
      assert.deepEqual(read.toJSON(), profile.toJSON(), `n=${n}`);
      if (n > 0) {
        const other = numerical(draw(20_000, () => normal()), 7);
        assert.deepEqual(driftMethods.ks!.compareProfiles(read, other), driftMethods.ks!.compareProfiles(profile, other));
      }
    }
    const cats = categorical(['a', 'b', '', 'a']);
    assert.deepEqual(CategoricalProfile.fromJSON(JSON.parse(JSON.stringify(cats.toJSON())), cats.limits, 'test').toJSON(), cats.toJSON());
    assert.deepEqual(cats.toJSON(), { kind: 'categorical', count: 3, missing: 1, categories: [['a', 2], ['b', 1]], overflow: 0 });
  });

  it('refuses a profile whose JSON does not add up, naming the field', () => {
    const json = numerical([1, 2, 3]).toJSON();
    assert.throws(() => NumericalProfile.fromJSON({ ...json, count: 4 }, numerical([]).limits, 'profiles.json features[2]'), /profiles.json features\[2\].values holds 3 values but count is 4/);
    assert.throws(() => NumericalProfile.fromJSON({ ...json, values: null }, numerical([]).limits, 'f'), /neither values nor a kll sketch/);
    assert.throws(() => DatasetProfile.fromJSON({ rows: 1, limits: { exactValues: 1, distinctValues: 1, categories: 1 }, features: [{ name: 'x', kind: 'ordinal' } as never] }), /features\[0\].kind/);
  });
});

describe('categorical profiles', () => {
  it('merged equal one pass below the cap; past it the rarest categories are pooled and counted', () => {
    const values = draw(5_000, () => `c${Math.floor(random() ** 2 * 30)}`);
    const single = categorical(values);
    const merged = new CategoricalProfile();
    for (let i = 0; i < values.length; i += 700) merged.merge(categorical(values.slice(i, i + 700)));
    assert.deepEqual(merged.toJSON(), single.toJSON());

    const capped = { exactValues: 10_000, distinctValues: 100, categories: 10 };
    const left = new CategoricalProfile(capped);
    const right = new CategoricalProfile(capped);
    values.slice(0, 2_500).forEach((v) => left.add(v));
    values.slice(2_500).forEach((v) => right.add(v));
    left.merge(right);
    assert.equal(left.counts().size, 10);
    assert.equal(left.count, 5_000);
    assert.equal([...left.counts().values()].reduce((a, b) => a + b, 0) + left.overflow, 5_000);
    assert.ok(left.counts().has('c0'), 'the most frequent category is kept');
  });
});

describe('methods on profiles equal the array versions wherever both sides are exact', () => {
  const grid = (n: number, scale = 1, shift = 0) => Array.from({ length: n }, (_, k) => ((k + 0.5) / n) * scale + shift);
  const stepped = (n: number, steps: number, scale = 1, shift = 0) => grid(n, scale, shift).map((v) => Math.floor(v * steps) / steps);
  const numericalCases = [
    { name: 'grid 300 vs 450', reference: grid(300), current: grid(450, 1, 0.08) },
    { name: 'ties 2000 vs 1500', reference: stepped(2000, 20), current: stepped(1500, 20, 1.1) },
    { name: 'grid 10000 vs 9000', reference: grid(10_000), current: grid(9_000, 1, 0.02) },
    { name: 'few values 5 vs 7', reference: [0.61, -1.24, 0.33, 2.05, -0.47], current: [1.12, 0.98, 2.4, -0.05, 1.77, 0.64, 3.01] },
  ];
  for (const c of numericalCases) {
    for (const method of Object.values(driftMethods)) {
      if (!method.appliesTo.includes('numerical')) continue;
      it(`${method.name}, ${c.name}`, () => {
        const fromArrays = method.compare(c.reference, c.current);
        const fromProfiles = method.compareProfiles(numerical(c.reference), numerical(c.current));
        assert.equal(fromProfiles.basis, 'exact');
        assert.equal(fromProfiles.errorBound, undefined);
        assert.equal(fromProfiles.statistic, fromArrays.statistic);
        assert.equal(fromProfiles.pValue, fromArrays.pValue);
        assert.equal(fromProfiles.drifted, fromArrays.drifted);
      });
    }
  }

  it('categorical methods count exactly, whatever the sample size', () => {
    const reference = draw(30_000, () => ['north', 'south', 'east', 'west'][Math.floor(random() ** 1.3 * 4)]!);
    const current = draw(25_000, () => ['north', 'south', 'east', 'west', 'centre'][Math.floor(random() * 4.02)]!);
    for (const method of Object.values(driftMethods)) {
      if (!method.appliesTo.includes('categorical')) continue;
      const fromArrays = method.compare(reference, current);
      const fromProfiles = method.compareProfiles(categorical(reference), categorical(current));
      assert.equal(fromProfiles.basis, 'exact', method.name);
      assert.equal(fromProfiles.statistic, fromArrays.statistic, method.name);
      assert.equal(fromProfiles.pValue, fromArrays.pValue, method.name);
    }
  });

  it('a low-cardinality numerical feature stays exact past 10,000 values through its distinct counts', () => {
    const reference = draw(40_000, () => Math.floor(random() * 4));
    const current = draw(30_000, () => Math.floor(random() * 4.1));
    const ref = numerical(reference);
    const cur = numerical(current);
    assert.equal(ref.values(), null);
    for (const name of ['chisquare', 'jensenshannon', 'ks', 'wasserstein']) {
      const method = driftMethods[name]!;
      const fromProfiles = method.compareProfiles(ref, cur);
      const fromArrays = method.compare(reference, current);
      assert.equal(fromProfiles.basis, 'exact', name);
      const close = fromProfiles.statistic === fromArrays.statistic || Math.abs(fromProfiles.statistic - fromArrays.statistic) <= 1e-12 * Math.max(1, fromArrays.statistic);
      assert.ok(close, `${name}: ${fromProfiles.statistic} vs ${fromArrays.statistic}`);
      if (fromArrays.pValue !== undefined) assert.ok(Math.abs(fromProfiles.pValue! - fromArrays.pValue) <= 1e-9 * Math.max(1e-300, fromArrays.pValue), name);
    }
  });

  it('a continuous feature past both caps cannot be compared as categories, and says why', () => {
    const ref = numerical(draw(20_000, () => normal()));
    assert.throws(() => driftMethods.chisquare!.compareProfiles(ref, numerical(draw(50, () => normal()))), /needs exact counts, but the reference sample has more than 10000 values and more than 100 distinct ones/);
  });
});

describe('sketched methods keep the exact statistic inside their stated bound (a million values)', () => {
  const n = 1_000_000;
  const reference = draw(n, () => normal());
  const referenceProfile = numerical(reference, 11);
  const smallReference = reference.slice(0, 8_000);
  const cases: [string, () => number][] = [
    ['no shift', () => normal()],
    ['shift 0.01', () => normal() + 0.01],
    ['scale 1.05', () => normal() * 1.05],
    ['heavy tail', () => normal() / Math.max(0.05, random())],
  ];
  for (const [name, f] of cases) {
    it(name, () => {
      const current = draw(n, f);
      const currentProfile = numerical(current, 12);

      const ks = driftMethods.ks!.compareProfiles(referenceProfile, currentProfile);
      const exactKs = kolmogorovSmirnov(reference, current);
      assert.equal(ks.basis, 'sketch');
      within(exactKs.statistic, ks.errorBound!.statistic, 'KS statistic');
      within(exactKs.pValue, ks.errorBound!.pValue!, 'KS p-value');
      assert.ok(ks.errorBound!.statistic[1] - ks.errorBound!.statistic[0] < 0.006, 'KS bound width');
      // Sketch noise only inflates D; the verdict takes the largest p-value the bound allows.
      assert.equal(ks.drifted, ks.errorBound!.pValue![1] < 0.05);
      if (name === 'no shift') assert.equal(ks.drifted, false);

      const w = driftMethods.wasserstein!.compareProfiles(referenceProfile, currentProfile);
      within(normalisedWasserstein(reference, current), w.errorBound!.statistic, 'Wasserstein');

      // With an exact reference the bins are the exact quantiles, so the bound covers PSI itself.
      const psi = driftMethods.psi!.compareProfiles(numerical(smallReference), currentProfile);
      assert.equal(psi.basis, 'sketch');
      within(populationStabilityIndex(smallReference, current), psi.errorBound!.statistic, 'PSI');
    });
  }
});

describe('compareProfiles', () => {
  const options: DriftOptions = { pValueThreshold: 0.05, psiThreshold: 0.25, driftShare: 0.5, minSamples: 100 };
  const features = [
    { name: 'spend', type: 'numerical' as const },
    { name: 'region', type: 'categorical' as const },
  ];
  function dataset(rows: number, shift: number, regions: string[]): DatasetProfile {
    const profile = new DatasetProfile(features);
    for (let i = 0; i < rows; i++) {
      (profile.feature('spend') as NumericalProfile).add(normal() + shift);
      (profile.feature('region') as CategoricalProfile).add(regions[i % regions.length]!);
    }
    profile.rows = rows;
    return profile;
  }

  it('reports exact or sketch per feature, with the bound, and the window verdict', () => {
    const report = compareProfiles({ features, reference: dataset(50_000, 0, ['n', 's']), current: dataset(30_000, 0.3, ['n', 's']), options });
    const [spend, region] = report.features;
    assert.equal(spend!.method, 'wasserstein');
    assert.equal(spend!.basis, 'sketch');
    assert.equal(spend!.verdict, 'drift');
    assert.equal(spend!.errorBound!.decisive, true);
    assert.equal(spend!.yields, 'distance');
    assert.equal(region!.basis, 'exact');
    assert.equal(region!.verdict, 'no_drift');
    assert.equal(report.verdict, 'drift');
    assert.equal(report.currentCount, 30_000);
  });

  it('a feature missing from the baseline is a missing_column finding, not a crash', () => {
    const reference = new DatasetProfile([features[1]!]);
    reference.rows = 500;
    for (let i = 0; i < 500; i++) (reference.feature('region') as CategoricalProfile).add(i % 2 ? 'n' : 's');
    const report = compareProfiles({ features, reference, current: dataset(400, 0, ['n', 's']), options });
    const spend = report.features.find((f) => f.name === 'spend')!;
    assert.equal(spend.verdict, 'missing_column');
    assert.equal(spend.missingFrom, 'reference');
    assert.match(spend.note!, /"spend" is missing from the reference sample/);
    assert.equal(report.verdict, 'no_drift', 'decided on the features that could be tested');
  });

  it('an empty window is insufficient data, never no drift', () => {
    const report = compareProfiles({ features, reference: dataset(500, 0, ['n']), current: new DatasetProfile(features), options });
    assert.equal(report.verdict, 'insufficient_data');
    assert.ok(report.features.every((f) => f.verdict === 'insufficient_data' && Number.isNaN(f.statistic)));
  });

  it('a numerical feature profiled as categorical is not computable, and says so', () => {
    const reference = dataset(500, 0, ['n']);
    const report = compareProfiles({ features: [{ name: 'region', type: 'numerical' }], reference, current: dataset(500, 0, ['n']), options });
    assert.equal(report.features[0]!.verdict, 'not_computable');
    assert.match(report.features[0]!.note!, /profiled as categorical/);
  });
});

describe('Model Monitor statistics.json', () => {
  it('numerical: moments, 10 equal-width KLL buckets as Deequ counts them, and the sketch; categorical: buckets', () => {
    const profile = new DatasetProfile([
      { name: 'age', type: 'numerical' },
      { name: 'plan', type: 'categorical' },
      { name: 'empty', type: 'numerical' },
    ]);
    const ages = [18, 20, 20, 35, 40, 41, 60, 61, 62, 90];
    ages.forEach((a) => (profile.feature('age') as NumericalProfile).add(a));
    (profile.feature('age') as NumericalProfile).add(NaN);
    ['gold', 'basic', 'basic', ''].forEach((p) => (profile.feature('plan') as CategoricalProfile).add(p));
    profile.rows = 11;
    const stats = JSON.parse(JSON.stringify(modelMonitorStatistics(profile)));
    assert.equal(stats.version, 0);
    assert.deepEqual(stats.dataset, { item_count: 11 });
    const [age, plan, empty] = stats.features;
    assert.equal(age.inferred_type, 'Integral');
    assert.deepEqual(age.numerical_statistics.common, { num_present: 10, num_missing: 1 });
    assert.equal(age.numerical_statistics.min, 18);
    assert.equal(age.numerical_statistics.max, 90);
    assert.equal(age.numerical_statistics.sum, ages.reduce((a, b) => a + b, 0));
    const buckets = age.numerical_statistics.distribution.kll.buckets;
    assert.equal(buckets.length, 10);
    assert.deepEqual(buckets[0], { lower_bound: 18, upper_bound: 25.2, count: 3 });
    assert.equal(buckets[9].upper_bound, 90);
    assert.equal(buckets[9].count, 1, 'the last bucket is closed: it holds the maximum');
    assert.equal(buckets.reduce((n: number, b: { count: number }) => n + b.count, 0), 10);
    assert.deepEqual(age.numerical_statistics.distribution.kll.sketch.parameters, { c: 0.64, k: 2048 });
    assert.deepEqual(plan.string_statistics.distribution.categorical.buckets, [{ value: 'basic', count: 2 }, { value: 'gold', count: 1 }]);
    assert.deepEqual(plan.string_statistics.common, { num_present: 3, num_missing: 1 });
    assert.deepEqual(empty.numerical_statistics, { common: { num_present: 0, num_missing: 0 } });
  });
});
