// The KLL sketch behind constant-memory drift: rank error within its stated bound, bounded memory,
// mergeable, deterministic, and round-trips through Model Monitor's statistics.json layout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KllSketch } from '../domain/drift/kll';
import { seededRandom } from '../domain/seeded-random';

function stream(n: number, seed: number, draw: (r: () => number) => number): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => draw(random));
}

const normal = (r: () => number) => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());

function maxRankError(sketch: KllSketch, values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  let worst = 0;
  for (let i = 1; i < 200; i++) {
    const q = i / 200;
    const v = sorted[Math.floor(q * sorted.length)]!;
    const exact = (upperBound(sorted, v)) / sorted.length;
    worst = Math.max(worst, Math.abs(sketch.cdf(v) - exact));
  }
  return worst;
}

function upperBound(sorted: number[], v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

test('on a million values the rank error stays within the stated bound, in a few thousand items', () => {
  for (const [name, draw] of [['uniform', (r: () => number) => r() * 100], ['normal', normal]] as const) {
    const values = stream(1_000_000, 3, draw);
    const sketch = new KllSketch();
    for (const v of values) sketch.update(v);
    assert.equal(sketch.count, 1_000_000);
    assert.ok(sketch.size < 2048 / (1 - 0.64), `${name}: ${sketch.size} items held`);
    const error = maxRankError(sketch, values);
    assert.ok(error <= sketch.normalizedRankError, `${name}: rank error ${error} above the bound ${sketch.normalizedRankError}`);
  }
});

test('below its capacity the sketch is exact', () => {
  const sketch = new KllSketch();
  for (const v of [5, 1, 4, 2, 3]) sketch.update(v);
  assert.equal(sketch.normalizedRankError, 0);
  assert.equal(sketch.cdf(3), 0.6);
  assert.equal(sketch.quantile(0.5), 3);
  assert.deepEqual(sketch.weightedValues().map((w) => w.value), [1, 2, 3, 4, 5]);
});

test('merged sketches summarise the union as well as one sketch of it', () => {
  const left = stream(300_000, 5, (r) => r());
  const right = stream(300_000, 6, (r) => 1 + r());
  const a = new KllSketch();
  const b = new KllSketch();
  for (const v of left) a.update(v);
  for (const v of right) b.update(v);
  a.merge(b);
  assert.equal(a.count, 600_000);
  assert.ok(Math.abs(a.cdf(1) - 0.5) <= a.normalizedRankError);
  assert.ok(maxRankError(a, [...left, ...right]) <= 2 * a.normalizedRankError);
});

test('the same stream gives the same sketch, and it round-trips through statistics.json', () => {
  const values = stream(50_000, 9, normal);
  const one = new KllSketch();
  const two = new KllSketch();
  for (const v of values) {
    one.update(v);
    two.update(v);
  }
  assert.deepEqual(one.toModelMonitor(), two.toModelMonitor());
  const json = JSON.parse(JSON.stringify(one.toModelMonitor()));
  assert.deepEqual(json.parameters, { c: 0.64, k: 2048 });
  const read = KllSketch.fromModelMonitor(json);
  assert.equal(read.count, 50_000);
  assert.equal(read.cdf(0), one.cdf(0));
});

test('bad input is refused with the reason', () => {
  assert.throws(() => new KllSketch().update(NaN), /finite numbers/);
  assert.throws(() => new KllSketch(1), /k must be/);
  assert.throws(() => KllSketch.fromModelMonitor({ parameters: { c: 0.64, k: 2048 }, data: [[1, 'x' as unknown as number]] }, 'statistics.json features[2]'), /statistics.json features\[2\]: data\[0\]/);
});
