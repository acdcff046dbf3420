// A KLL quantile sketch (Karnin, Lang and Liberty, "Optimal Quantile Approximation in Streams", 2016),
// in the shape SageMaker Model Monitor writes into statistics.json: parameters {k, c} and `data`, one
// array of items per compactor, where an item at height h stands for 2^h values. That is Deequ's
// layout (Model Monitor's container is built on Deequ), whose defaults are k = 2048 and c = 0.64.
//
// Memory is bounded by about k / (1 - c) items whatever the stream length. Compaction keeps the odd or
// the even items of a sorted level; the choice comes from a seeded generator, so the same stream always
// gives the same sketch (workflows and tests can rely on it).
import { seededRandom } from '../seeded-random';

export interface KllSketchJson {
  parameters: { c: number; k: number };
  data: number[][];
}

export interface WeightedValue {
  value: number;
  weight: number;
}

/**
 * A sketch's items exactly as held (level order included), for merging on another thread; structured
 * cloning copies it, and its arrays can be transferred.
 */
export interface KllSketchState {
  k: number;
  c: number;
  levels: Float64Array[];
  total: number;
}

export const MODEL_MONITOR_KLL_K = 2048;
export const MODEL_MONITOR_KLL_C = 0.64;

export class KllSketch {
  /** Items per level (an item at height h stands for 2^h values); only the first `lengths[h]` are held. */
  private levels: Float64Array[] = [new Float64Array(64)];
  private lengths: number[] = [0];
  private retained = 0;
  private total = 0;
  /**
   * Each level's capacity and their sum; they depend only on how many levels there are, so they are cached.
   * An Int32Array, not an array of numbers: Math.ceil's results made an array of small integers in some
   * sketches and of doubles in others (as the code that made it was optimised or not), and compaction's
   * read of it, compiled for one, then threw every call back to the interpreter on the other (the 1M drift
   * bench's merge thread left its compiled updateBatch some 1,000 times in one run in three).
   */
  private capacities = new Int32Array(0);
  private capacityTotal = 0;
  private readonly random: () => number;

  constructor(
    readonly k: number = MODEL_MONITOR_KLL_K,
    readonly c: number = MODEL_MONITOR_KLL_C,
    seed = 1,
  ) {
    if (!(k >= 2) || !Number.isInteger(k)) throw new RangeError(`KLL k must be an integer of at least 2, got ${k}`);
    if (!(c > 0.5 && c < 1)) throw new RangeError(`KLL c must lie between 0.5 and 1, got ${c}`);
    this.random = seededRandom(seed);
    this.capacityTotal = this.capacity();
  }

  /** A sketch read from Model Monitor's statistics.json (`distribution.kll.sketch`). */
  static fromModelMonitor(json: KllSketchJson, where = 'kll sketch'): KllSketch {
    const k = Math.round(Number(json?.parameters?.k));
    const c = Number(json?.parameters?.c);
    if (!Array.isArray(json?.data)) throw new RangeError(`${where}: "data" must be an array of arrays of numbers`);
    const sketch = new KllSketch(k, c);
    json.data.forEach((level, h) => {
      if (!Array.isArray(level) || level.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
        throw new RangeError(`${where}: data[${h}] must be an array of finite numbers`);
      }
    });
    if (json.data.length > 0) {
      sketch.levels = json.data.map((level) => Float64Array.from(level as number[]));
      sketch.lengths = json.data.map((level) => level.length);
    }
    sketch.retained = sketch.lengths.reduce((n, length) => n + length, 0);
    sketch.total = sketch.lengths.reduce((n, length, h) => n + length * 2 ** h, 0);
    sketch.capacityTotal = sketch.capacity();
    return sketch;
  }

  toModelMonitor(): KllSketchJson {
    return { parameters: { c: this.c, k: this.k }, data: this.levels.map((_, h) => Array.from(this.level(h))) };
  }

  toState(): KllSketchState {
    return { k: this.k, c: this.c, levels: this.levels.map((_, h) => this.level(h).slice()), total: this.total };
  }

  /**
   * The sketch a state was taken from, to merge from: its items and counts are the same, but compactions
   * of its own (if it is updated further) draw their coins from a fresh seed.
   */
  static fromState(state: KllSketchState): KllSketch {
    const sketch = new KllSketch(state.k, state.c);
    sketch.levels = state.levels.length > 0 ? state.levels : [new Float64Array(64)];
    sketch.lengths = sketch.levels.map((level) => level.length);
    sketch.retained = sketch.lengths.reduce((n, length) => n + length, 0);
    sketch.total = state.total;
    sketch.capacityTotal = sketch.capacity();
    return sketch;
  }

  /** Values summarised (the sum of the items' weights). */
  get count(): number {
    return this.total;
  }

  /** Items held in memory. */
  get size(): number {
    return this.retained;
  }

  update(value: number): void {
    if (!Number.isFinite(value)) throw new RangeError(`KLL sketches take finite numbers, got ${value}`);
    if (this.lengths[0] === this.levels[0]!.length) this.grow(0, 1);
    this.levels[0]![this.lengths[0]!++] = value;
    this.retained++;
    this.total++;
    if (this.retained >= this.capacityTotal) this.compress();
  }

  /**
   * The same as update() for each value in turn, copied in runs: between two compactions the values only
   * join level 0, so the sketch is the one update() would give.
   */
  updateAll(values: Float64Array): void {
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i]!)) throw new RangeError(`KLL sketches take finite numbers, got ${values[i]}`);
    }
    for (let i = 0; i < values.length; ) {
      // At least one, as update() takes one even into a sketch read over its capacity.
      const run = Math.max(1, Math.min(values.length - i, this.capacityTotal - this.retained));
      this.grow(0, run);
      // Runs between compactions are short (a few dozen values once the sketch is full): copied here,
      // they cost no subarray and no call.
      const level = this.levels[0]!;
      const at = this.lengths[0]!;
      for (let j = 0; j < run; j++) level[at + j] = values[i + j]!;
      this.lengths[0] = at + run;
      this.retained += run;
      this.total += run;
      i += run;
      if (this.retained >= this.capacityTotal) this.compress();
    }
  }

  /**
   * Takes a batch of values (a fold's kept values) as one block at height 0, then compacts as merge()
   * does: the block is sorted once and halved up the levels, instead of passing through a level 0 that a
   * full sketch keeps a few dozen items long (one small sort per few dozen values). Each compaction still
   * halves one sorted level with a seeded coin, so the error bound is the sketch's own, and there are fewer
   * compactions than value by value; the sketch differs from updateAll's but is as deterministic.
   */
  updateBatch(values: Float64Array): void {
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i]!)) throw new RangeError(`KLL sketches take finite numbers, got ${values[i]}`);
    }
    if (values.length === 0) return;
    this.grow(0, values.length);
    this.levels[0]!.set(values, this.lengths[0]!);
    this.lengths[0]! += values.length;
    this.retained += values.length;
    this.total += values.length;
    while (this.retained >= this.capacityTotal) this.compress();
  }

  merge(other: KllSketch): void {
    for (let h = 0; h < other.levels.length; h++) {
      while (this.levels.length <= h) {
        this.levels.push(new Float64Array(64));
        this.lengths.push(0);
      }
      const items = other.level(h);
      this.grow(h, items.length);
      this.levels[h]!.set(items, this.lengths[h]!);
      this.lengths[h]! += items.length;
    }
    this.retained += other.retained;
    this.total += other.total;
    this.capacityTotal = this.capacity();
    while (this.retained >= this.capacityTotal) this.compress();
  }

  /** Share of values ≤ x. */
  cdf(x: number): number {
    if (this.total === 0) return NaN;
    let below = 0;
    for (let h = 0; h < this.levels.length; h++) {
      const weight = 2 ** h;
      for (const v of this.level(h)) if (v <= x) below += weight;
    }
    return below / this.total;
  }

  /** The smallest summarised value whose CDF reaches q (0 ≤ q ≤ 1). */
  quantile(q: number): number {
    const items = this.weightedValues();
    if (items.length === 0) return NaN;
    const target = Math.min(1, Math.max(0, q)) * this.total;
    let seen = 0;
    for (const item of items) {
      seen += item.weight;
      if (seen >= target) return item.value;
    }
    return items[items.length - 1]!.value;
  }

  /** The retained items with their weights, sorted by value: the sketch's stand-in for the sample. */
  weightedValues(): WeightedValue[] {
    const items: WeightedValue[] = [];
    for (let h = 0; h < this.levels.length; h++) {
      const weight = 2 ** h;
      for (const value of this.level(h)) items.push({ value, weight });
    }
    return items.sort((a, b) => a.value - b.value);
  }

  /**
   * weightedValues() as two arrays, values ascending and each one's weight: each level sorted on its own
   * (as compaction sorts it) and the levels merged, lower levels first among equal values as weightedValues()
   * orders them. A sketch holds thousands of items, and an object and a comparator call per item made
   * this most of the time a drift comparison takes.
   */
  sortedItems(): { values: Float64Array; weights: Float64Array } {
    // Merged from the lowest level up, so the levels below come first among equal values; the lower
    // levels are the short ones, so each item is copied only a few times. sortLevel's result may be its
    // scratch space, which the next sort reuses: copied.
    let values = sortLevel(this.level(0)).slice();
    let weights = new Float64Array(values.length).fill(1);
    for (let h = 1; h < this.levels.length; h++) {
      const level = sortLevel(this.level(h)).slice();
      const weight = 2 ** h;
      const mergedValues = new Float64Array(values.length + level.length);
      const mergedWeights = new Float64Array(mergedValues.length);
      let i = 0;
      let j = 0;
      let at = 0;
      while (i < values.length && j < level.length) {
        if (level[j]! < values[i]!) {
          mergedValues[at] = level[j++]!;
          mergedWeights[at++] = weight;
        } else {
          mergedValues[at] = values[i]!;
          mergedWeights[at++] = weights[i++]!;
        }
      }
      for (; i < values.length; i++, at++) {
        mergedValues[at] = values[i]!;
        mergedWeights[at] = weights[i]!;
      }
      for (; j < level.length; j++, at++) {
        mergedValues[at] = level[j]!;
        mergedWeights[at] = weight;
      }
      values = mergedValues;
      weights = mergedWeights;
    }
    return { values, weights };
  }

  /**
   * The rank error, as a share of the count, that holds with 99% confidence: Apache DataSketches'
   * empirical fit for KLL, 2.296 / k^0.9723. While nothing has been compacted the sketch is exact (0).
   */
  get normalizedRankError(): number {
    return this.levels.length === 1 ? 0 : 2.296 / this.k ** 0.9723;
  }

  /** The items held at height h. */
  private level(h: number): Float64Array {
    return this.levels[h]!.subarray(0, this.lengths[h]!);
  }

  /** Makes room for `more` items at height h. */
  private grow(h: number, more: number): void {
    const level = this.levels[h]!;
    const needed = this.lengths[h]! + more;
    if (needed <= level.length) return;
    const grown = new Float64Array(Math.max(needed, level.length * 2));
    grown.set(level.subarray(0, this.lengths[h]!));
    this.levels[h] = grown;
  }

  /** Capacity of the level at height h: k at the top, shrinking by c per level below, at least 2. */
  private levelCapacity(h: number): number {
    const depth = this.levels.length - 1 - h;
    return Math.max(2, Math.ceil(this.k * this.c ** depth));
  }

  /** Recomputes the cached capacities and returns their sum. */
  private capacity(): number {
    const capacities = new Int32Array(this.levels.length);
    let total = 0;
    for (let h = 0; h < capacities.length; h++) total += capacities[h] = this.levelCapacity(h);
    this.capacities = capacities;
    return total;
  }

  /** Compacts the lowest full level into the one above it. */
  private compress(): void {
    for (let h = 0; h < this.levels.length; h++) {
      const length = this.lengths[h]!;
      if (length < this.capacities[h]!) continue;
      if (h + 1 === this.levels.length) {
        this.levels.push(new Float64Array(64));
        this.lengths.push(0);
        this.capacityTotal = this.capacity();
      }
      const level = this.levels[h]!;
      const sorted = sortLevel(level.subarray(0, length));
      // An odd item out stays behind, so every promoted pair is a real pair and weight is conserved.
      const pairs = length - (length % 2);
      const offset = this.random() < 0.5 ? 0 : 1;
      this.grow(h + 1, pairs / 2);
      const above = this.levels[h + 1]!;
      let at = this.lengths[h + 1]!;
      for (let i = offset; i < pairs; i += 2) above[at++] = sorted[i]!;
      this.lengths[h + 1] = at;
      this.retained -= pairs / 2;
      if (pairs < length) level[0] = sorted[pairs]!;
      this.lengths[h] = length - pairs;
      return;
    }
  }
}

/** Scratch space a level is sorted into (one thread runs one compaction at a time). */
let sortScratch = new Float64Array(4096);
/** Starts of the ascending runs of a level being sorted, and the end; or bucket bounds. */
let runStarts = new Int32Array(4097);

/** Whether b sorts before a, in a typed array's order: by value, and −0 before +0. */
function descends(a: number, b: number): boolean {
  return b < a || (b === 0 && a === 0 && 1 / b < 1 / a);
}

/**
 * A level's items sorted as Float64Array.prototype.sort sorts them (so the result is the same): the level
 * itself when it was sorted already, else the sorted copy in scratch space, valid until the next sort.
 * Above level 0 a level is a few ascending runs (the halves compactions promoted into it), which merging
 * sorts in a few passes; a level of many runs (level 0: values as they came) is bucket-sorted.
 */
function sortLevel(level: Float64Array): Float64Array {
  const n = level.length;
  let runs = 0;
  runStarts[0] = 0;
  for (let i = 1; i < n; i++) {
    if (!descends(level[i - 1]!, level[i]!)) continue;
    if (++runs > 16) return bucketSort(level);
    runStarts[runs] = i;
  }
  if (runs === 0) return level;
  runStarts[++runs] = n;
  if (sortScratch.length < n) sortScratch = new Float64Array(Math.max(n, sortScratch.length * 2));
  // Merge neighbouring runs pairwise until one is left, between the level and the scratch space; `runs`
  // counts them. The level is read, never written: the sorted items end up in whichever holds them last.
  const scratch = sortScratch.subarray(0, n);
  let from: Float64Array = level;
  let to: Float64Array = scratch;
  while (runs > 1) {
    let merged = 0;
    for (let r = 0; r < runs; r += 2) {
      const start = runStarts[r]!;
      if (r + 1 === runs) {
        to.set(from.subarray(start, n), start);
        runStarts[merged++] = start;
        break;
      }
      const middle = runStarts[r + 1]!;
      const end = runStarts[r + 2]!;
      let i = start;
      let j = middle;
      let k = start;
      let a = from[i]!;
      let b = from[j]!;
      for (;;) {
        if (descends(a, b)) {
          to[k++] = b;
          if (++j === end) break;
          b = from[j]!;
        } else {
          to[k++] = a;
          if (++i === middle) break;
          a = from[i]!;
        }
      }
      while (i < middle) to[k++] = from[i++]!;
      while (j < end) to[k++] = from[j++]!;
      runStarts[merged++] = start;
    }
    runStarts[merged] = n;
    runs = merged;
    const swap = from;
    from = to;
    to = swap;
  }
  return from;
}

/**
 * Sorts values in Float64Array.prototype.sort's order (by value, −0 before +0) into scratch space: spread
 * into as many buckets as values, of equal width between the smallest and largest (a bucket's values are
 * never above the next bucket's, rounding included), oversized buckets sorted by the typed-array sort, and
 * one insertion pass over the whole, which moves each value at most within its bucket. About three
 * times as fast as the typed-array sort alone on the levels a sketch compacts, which hold a few hundred
 * values in no order; the result is the same.
 */
function bucketSort(values: Float64Array): Float64Array {
  const n = values.length;
  let min = values[0]!;
  let max = min;
  for (let i = 1; i < n; i++) {
    const x = values[i]!;
    if (x < min) min = x;
    else if (x > max) max = x;
  }
  const scale = (n - 1) / (max - min);
  if (sortScratch.length < n) sortScratch = new Float64Array(Math.max(n, sortScratch.length * 2));
  const sorted = sortScratch.subarray(0, n);
  if (n < 64 || !(scale > 0 && scale < Infinity)) {
    sorted.set(values);
    return sorted.sort();
  }
  if (runStarts.length < n + 1) runStarts = new Int32Array(n * 2 + 1);
  const starts = runStarts;
  starts.fill(0, 0, n + 1);
  for (let i = 0; i < n; i++) starts[(((values[i]! - min) * scale) | 0) + 1]!++;
  let largest = 0;
  for (let b = 1; b <= n; b++) {
    const count = starts[b]!;
    if (count > largest) largest = count;
    starts[b] = count + starts[b - 1]!;
  }
  // Scattered in order; each bucket's start then sits where the next one starts.
  for (let i = 0; i < n; i++) {
    const x = values[i]!;
    sorted[starts[((x - min) * scale) | 0]!++] = x;
  }
  if (largest > BUCKET_INSERTION_MAX) {
    let start = 0;
    for (let b = 0; b < n; b++) {
      const end = starts[b]!;
      if (end - start > BUCKET_INSERTION_MAX) sorted.subarray(start, end).sort();
      start = end;
    }
  }
  for (let i = 1; i < n; i++) {
    const x = sorted[i]!;
    if (!(sorted[i - 1]! > x)) continue;
    let j = i - 1;
    do {
      sorted[j + 1] = sorted[j]!;
      j--;
    } while (j >= 0 && sorted[j]! > x);
    sorted[j + 1] = x;
  }
  if (min <= 0 && max >= 0) {
    // Zeros sit together, in the order they came: −0 first, as the typed-array sort puts them.
    let first = 0;
    while (sorted[first]! < 0) first++;
    let end = first;
    let negative = 0;
    for (; end < n && sorted[end] === 0; end++) if (1 / sorted[end]! < 0) negative++;
    if (negative > 0) {
      sorted.fill(-0, first, first + negative);
      sorted.fill(0, first + negative, end);
    }
  }
  return sorted;
}

/** Buckets of up to this many values are left to the insertion pass; larger ones get the typed-array sort. */
const BUCKET_INSERTION_MAX = 24;
