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

/** The sketch as first written here (plain arrays, each level sorted whole at compaction): the new one must equal it. */
class ReferenceKll {
  levels: number[][] = [[]];
  retained = 0;
  total = 0;
  private readonly random: () => number;
  constructor(
    readonly k = 2048,
    readonly c = 0.64,
    seed = 1,
  ) {
    this.random = seededRandom(seed);
  }
  private capacity(): number {
    return this.levels.reduce((n, _, h) => n + Math.max(2, Math.ceil(this.k * this.c ** (this.levels.length - 1 - h))), 0);
  }
  update(v: number): void {
    this.levels[0]!.push(v);
    this.retained++;
    this.total++;
    if (this.retained >= this.capacity()) this.compress();
  }
  updateBatch(values: Float64Array): void {
    for (const v of values) this.levels[0]!.push(v);
    this.retained += values.length;
    this.total += values.length;
    while (this.retained >= this.capacity()) this.compress();
  }
  merge(other: { toModelMonitor(): { data: number[][] } }): void {
    other.toModelMonitor().data.forEach((level, h) => {
      while (this.levels.length <= h) this.levels.push([]);
      for (const v of level) this.levels[h]!.push(v);
      this.retained += level.length;
      this.total += level.length * 2 ** h;
    });
    while (this.retained >= this.capacity()) this.compress();
  }
  private compress(): void {
    for (let h = 0; h < this.levels.length; h++) {
      const level = this.levels[h]!;
      if (level.length < Math.max(2, Math.ceil(this.k * this.c ** (this.levels.length - 1 - h)))) continue;
      if (h + 1 === this.levels.length) this.levels.push([]);
      const sorted = Float64Array.from(level).sort();
      const pairs = sorted.length - (sorted.length % 2);
      const offset = this.random() < 0.5 ? 0 : 1;
      for (let i = offset; i < pairs; i += 2) this.levels[h + 1]!.push(sorted[i]!);
      this.retained -= pairs / 2;
      this.levels[h] = pairs < sorted.length ? [sorted[pairs]!] : [];
      return;
    }
  }
  toModelMonitor() {
    return { parameters: { c: this.c, k: this.k }, data: this.levels.map((l) => [...l]) };
  }
}

test('typed-array levels, run merging and updateAll give the sketch of the plain algorithm, bit for bit', () => {
  const random = seededRandom(17);
  // Ties, signed zeros, sorted and reversed runs, a narrow range: what the sort and the run merging must get right.
  const draws: ((i: number) => number)[] = [
    () => random(),
    () => Math.round(random() * 20) / 4 - 2,
    () => (random() < 0.5 ? -0 : 0),
    () => (random() < 0.3 ? (random() < 0.5 ? -0 : 0) : Math.round(random() * 40 - 20)),
    () => (random() < 0.02 ? (random() < 0.5 ? -0 : 0) : random() * 2 - 1),
    (i) => i % 5000,
    (i) => -(i % 3000),
    () => normal(random) * 1e6,
  ];
  for (const [d, draw] of draws.entries()) {
    const values = Float64Array.from({ length: 120_000 }, (_, i) => draw(i));
    const reference = new ReferenceKll(256, 0.64, d + 1);
    const one = new KllSketch(256, 0.64, d + 1);
    const batched = new KllSketch(256, 0.64, d + 1);
    for (const v of values) {
      reference.update(v);
      one.update(v);
    }
    for (let i = 0; i < values.length; i += 7_777) batched.updateAll(values.subarray(i, i + 7_777));
    assert.deepStrictEqual(one.toModelMonitor(), reference.toModelMonitor(), `draw ${d}`);
    assert.deepStrictEqual(batched.toModelMonitor(), reference.toModelMonitor(), `draw ${d}, batched`);

    // Merges, of a sketch and of one restored from its state (as fold threads hand them over).
    const other = new KllSketch(256, 0.64, 99);
    for (const v of values.subarray(0, 30_000)) other.update(-v);
    reference.merge(other);
    one.merge(other);
    batched.merge(KllSketch.fromState(structuredClone(other.toState())));
    assert.deepStrictEqual(one.toModelMonitor(), reference.toModelMonitor(), `draw ${d}, merged`);
    assert.deepStrictEqual(batched.toModelMonitor(), reference.toModelMonitor(), `draw ${d}, merged from a state`);
    assert.equal(batched.count, reference.total);
  }
});

test('batches of kept values give the sketch of the plain algorithm, bit for bit, whatever their distribution', () => {
  // Thousands of values at level 0: the radix sort's path. Skewed, negative, tied, signed zeros, huge and tiny.
  const random = seededRandom(23);
  const draws: ((i: number) => number)[] = [
    () => Math.exp(normal(random) * 2),
    () => -Math.log(1 - random()) * 1e-300,
    () => Math.round(normal(random) * 1e4) / 1e4,
    () => (random() < 0.1 ? (random() < 0.5 ? -0 : 0) : normal(random) * 1e300),
    (i) => (i % 2 ? -1 : 1) * (i % 17),
    () => Number.MAX_VALUE * (random() - 0.5),
  ];
  for (const [d, draw] of draws.entries()) {
    const reference = new ReferenceKll(2048, 0.64, d + 1);
    const batched = new KllSketch(2048, 0.64, d + 1);
    for (let object = 0; object < 40; object++) {
      const values = Float64Array.from({ length: 1_000 + ((object * 977) % 9_000) }, (_, i) => draw(i));
      reference.updateBatch(values);
      batched.updateBatch(values);
    }
    assert.deepStrictEqual(batched.toModelMonitor(), reference.toModelMonitor(), `draw ${d}`);
  }
});

test('batches of kept values (updateBatch) stay within the bound, conserve the count, and repeat exactly', () => {
  // The drift fold's shape: objects of 10,000 values each join the window's sketch as one block.
  for (const [name, draw] of [['uniform', (r: () => number) => r() * 100], ['normal', normal], ['few values', (r: () => number) => Math.floor(r() * 7)]] as const) {
    const values = stream(1_000_000, 11, draw);
    const build = () => {
      const sketch = new KllSketch(2048, 0.64, 5);
      for (let at = 0; at < values.length; at += 10_000) sketch.updateBatch(Float64Array.from(values.slice(at, at + 10_000)));
      return sketch;
    };
    const sketch = build();
    assert.equal(sketch.count, values.length, `${name}: every value counted once`);
    assert.ok(sketch.size < 2048 / (1 - 0.64), `${name}: ${sketch.size} items held`);
    const error = maxRankError(sketch, values);
    assert.ok(error <= sketch.normalizedRankError, `${name}: rank error ${error} above the bound ${sketch.normalizedRankError}`);
    assert.deepStrictEqual(build().toModelMonitor(), sketch.toModelMonitor(), `${name}: the same batches give the same sketch`);
  }
  assert.throws(() => new KllSketch().updateBatch(Float64Array.of(1, Number.NaN)), /finite numbers, got NaN/);
});

test('sortedItems gives weightedValues as two arrays, ties and all', () => {
  const random = seededRandom(23);
  for (const [n, draw] of [
    [0, () => 0],
    [500, () => random()],
    [200_000, () => Math.round(random() * 50) / 2], // few distinct values: ties across levels
    [300_000, () => (random() < 0.1 ? 0 : random() < 0.5 ? -0 : random() * 1e6 - 5e5)],
  ] as const) {
    const sketch = new KllSketch(256, 0.64, n + 1);
    for (let at = 0; at < n; at += 7_000) sketch.updateBatch(Float64Array.from({ length: Math.min(7_000, n - at) }, draw));
    const items = sketch.weightedValues();
    const { values, weights } = sketch.sortedItems();
    assert.equal(values.length, items.length, `n = ${n}`);
    items.forEach((item, i) => {
      // A zero's sign is the one difference allowed: the typed-array sort puts −0 before +0.
      assert.ok(values[i] === item.value, `n = ${n}, item ${i}: ${values[i]} against ${item.value}`);
      assert.equal(weights[i], item.weight, `n = ${n}, item ${i}'s weight`);
    });
  }
});
