// Feature profiles: what drift is computed from. A profile summarises one feature's values in memory
// that does not grow with their number, merges with another profile of the same feature, and
// round-trips through JSON, so a window can be profiled object by object, in parallel, in the worker
// or in a processing job, and compared later.
//
// Numerical: count, missing, min, max, mean and M2 (Welford; Chan et al. to merge), whether every value
// is an integer, the exact values while there are at most `exactValues` (10,000: scipy's ks_2samp uses
// the exact distribution up to 10,000 per side, so exactness holds exactly where the test needs it),
// exact counts per distinct value while there are at most `distinctValues` (the low-cardinality rows of
// the method table), and a KLL sketch (Model Monitor's k = 2048, c = 0.64) once the exact values are
// dropped. While the values are kept the sketch is derived from them on demand.
// Categorical: counts per category, at most `categories` of them; values of further categories are
// pooled in `overflow` and reported.
import { detachedCopy } from '../detached-text';
import { KllSketch, MODEL_MONITOR_KLL_C, MODEL_MONITOR_KLL_K, type KllSketchJson, type KllSketchState } from './kll';
import { EXACT_MAX_SAMPLE_SIZE } from './kolmogorov';
import { DriftInputError, type FeatureKind } from './types';

export interface ProfileLimits {
  /** Numerical values kept exactly while a feature has at most this many. */
  exactValues: number;
  /** Distinct numerical values counted exactly while a feature has at most this many. */
  distinctValues: number;
  /** Categories counted per categorical feature; values of further categories are pooled as overflow. */
  categories: number;
}

export const DEFAULT_PROFILE_LIMITS: Readonly<ProfileLimits> = Object.freeze({
  exactValues: EXACT_MAX_SAMPLE_SIZE,
  distinctValues: 100,
  categories: 1000,
});

export interface NumericalProfileJson {
  kind: 'numerical';
  count: number;
  missing: number;
  /** null while count is 0. */
  min: number | null;
  max: number | null;
  mean: number;
  /** Sum of squared deviations from the mean. */
  m2: number;
  sum: number;
  integral: boolean;
  /** Every value (in the order seen) while count ≤ exactValues, else null. */
  values: number[] | null;
  /** [value, count] sorted by value while there are at most distinctValues distinct values, else null. */
  distinct: [number, number][] | null;
  /** Model Monitor's layout; null while `values` is present (the sketch is rebuilt from them with `seed`). */
  kll: KllSketchJson | null;
  seed: number;
}

export interface CategoricalProfileJson {
  kind: 'categorical';
  count: number;
  missing: number;
  /** [category, count] sorted by category. */
  categories: [string, number][];
  /** Values whose category arrived after the cap was reached. */
  overflow: number;
}

export type FeatureProfileJson = NumericalProfileJson | CategoricalProfileJson;

// States: a profile copied exactly, for another thread (structured clone, typed arrays transferable).
// toJSON is for storage and normalises (categories sorted, one sum); merging a restored state equals
// merging the profile itself, bit for bit, Map orders included.

export interface NumericalProfileState {
  kind: 'numerical';
  seed: number;
  count: number;
  missing: number;
  min: number;
  max: number;
  mean: number;
  m2: number;
  sumHigh: number;
  sumLow: number;
  integral: boolean;
  exact: Float64Array | null;
  /** In insertion order. */
  distinct: [number, number][] | null;
  kll: KllSketchState | null;
}

export interface CategoricalProfileState {
  kind: 'categorical';
  count: number;
  missing: number;
  overflow: number;
  /** In insertion order. */
  tally: [string, number][];
}

export interface DatasetProfileState {
  rows: number;
  limits: ProfileLimits;
  features: [string, NumericalProfileState | CategoricalProfileState][];
}

/**
 * The kept values of a profile that has none yet: room is made at the first value. A profile made only to
 * be handed to another thread (a fold whose values wait in columns, activities/drift-fold.ts) then holds
 * no memory outside the heap of its own, which would otherwise be garbage by the thousand folds that
 * only a full collection frees.
 */
const NO_VALUES = new Float64Array(0);

/** Whether values[0], ..., values[length - 1] are all finite. */
function allFinite(values: Float64Array, length: number): boolean {
  for (let i = 0; i < length; i++) if (values[i]! - values[i]! !== 0) return false;
  return true;
}

/** Deterministic per-feature, per-object seeds for the sketches' compaction coins. */
export function mixSeed(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x7f4a7c15, 0xc2b2ae35);
  h ^= h >>> 16;
  return (Math.imul(h, 0x27d4eb2d) ^ (h >>> 13)) >>> 0 || 1;
}

export class NumericalProfile {
  readonly kind = 'numerical' as const;
  count = 0;
  missing = 0;
  min = Infinity;
  max = -Infinity;
  mean = 0;
  m2 = 0;
  integral = true;
  /** Neumaier-compensated sum, for statistics.json's `sum` (mean × count loses the last digits). */
  private sumHigh = 0;
  private sumLow = 0;
  private exact: Float64Array | null = NO_VALUES;
  private exactLength = 0;
  private distinct: Map<number, number> | null = new Map();
  private kll: KllSketch | null = null;

  constructor(
    readonly limits: ProfileLimits = DEFAULT_PROFILE_LIMITS,
    readonly seed = 1,
  ) {}

  /** A finite value; anything else is counted as missing. */
  add(x: number): void {
    if (!Number.isFinite(x)) {
      this.missing++;
      return;
    }
    const n = ++this.count;
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
    const delta = x - this.mean;
    this.mean += delta / n;
    this.m2 += delta * (x - this.mean);
    this.addToSum(x);
    if (this.integral && !Number.isInteger(x)) this.integral = false;
    const distinct = this.distinct;
    if (distinct) {
      const seen = distinct.get(x);
      if (seen !== undefined) distinct.set(x, seen + 1);
      else if (distinct.size < this.limits.distinctValues) distinct.set(x, 1);
      else this.distinct = null;
    }
    if (this.exact) {
      if (this.exactLength < this.limits.exactValues) {
        if (this.exactLength === this.exact.length) {
          const grown = new Float64Array(this.exactRoom(this.exactLength + 1));
          grown.set(this.exact);
          this.exact = grown;
        }
        this.exact[this.exactLength++] = x;
        return;
      }
      this.dropExactValues();
    }
    this.kll!.update(x);
  }

  addMissing(times = 1): void {
    this.missing += times;
  }

  /**
   * add() for values[0], ..., values[length - 1] in turn, and the same profile, bit for bit: each part
   * (moments, distinct counts, kept values or sketch) takes the values in one tight loop, which is what
   * makes it cheaper. Non-finite values are counted as missing.
   */
  addAll(values: Float64Array, length = values.length, owned = false): void {
    let finite = values.subarray(0, length);
    if (!allFinite(values, length)) {
      finite = finite.filter((x) => x - x === 0);
      this.missing += length - finite.length;
    }
    if (finite.length === 0) return;
    this.addMoments(finite);
    this.keep(finite, owned);
  }

  /**
   * a.addAll(xs, length) and b.addAll(ys, length), the same two profiles bit for bit: when every value is
   * finite their moments are taken in one loop, whose two chains of dependent steps (each value's mean
   * waits on the last one's division) then overlap instead of running one after the other.
   */
  static addAllPair(a: NumericalProfile, xs: Float64Array, b: NumericalProfile, ys: Float64Array, length: number, owned = false): void {
    if (length === 0 || !allFinite(xs, length) || !allFinite(ys, length)) {
      a.addAll(xs, length, owned);
      b.addAll(ys, length, owned);
      return;
    }
    let countA = a.count;
    let minA = a.min;
    let maxA = a.max;
    let meanA = a.mean;
    let m2A = a.m2;
    let highA = a.sumHigh;
    let lowA = a.sumLow;
    let integralA = a.integral;
    let countB = b.count;
    let minB = b.min;
    let maxB = b.max;
    let meanB = b.mean;
    let m2B = b.m2;
    let highB = b.sumHigh;
    let lowB = b.sumLow;
    let integralB = b.integral;
    for (let i = 0; i < length; i++) {
      const x = xs[i]!;
      const y = ys[i]!;
      countA++;
      countB++;
      if (x < minA) minA = x;
      if (x > maxA) maxA = x;
      if (y < minB) minB = y;
      if (y > maxB) maxB = y;
      const deltaA = x - meanA;
      const deltaB = y - meanB;
      meanA += deltaA / countA;
      meanB += deltaB / countB;
      m2A += deltaA * (x - meanA);
      m2B += deltaB * (y - meanB);
      const tA = highA + x;
      const tB = highB + y;
      lowA += Math.abs(highA) >= Math.abs(x) ? highA - tA + x : x - tA + highA;
      lowB += Math.abs(highB) >= Math.abs(y) ? highB - tB + y : y - tB + highB;
      highA = tA;
      highB = tB;
      if (integralA && !Number.isInteger(x)) integralA = false;
      if (integralB && !Number.isInteger(y)) integralB = false;
    }
    a.count = countA;
    a.min = minA;
    a.max = maxA;
    a.mean = meanA;
    a.m2 = m2A;
    a.sumHigh = highA;
    a.sumLow = lowA;
    a.integral = integralA;
    b.count = countB;
    b.min = minB;
    b.max = maxB;
    b.mean = meanB;
    b.m2 = m2B;
    b.sumHigh = highB;
    b.sumLow = lowB;
    b.integral = integralB;
    a.keep(xs.subarray(0, length), owned);
    b.keep(ys.subarray(0, length), owned);
  }

  /** The moments, extremes, sum and integrality of finite values, as add() takes them one by one. */
  private addMoments(finite: Float64Array): void {
    const n = finite.length;
    let count = this.count;
    let min = this.min;
    let max = this.max;
    let mean = this.mean;
    let m2 = this.m2;
    let high = this.sumHigh;
    let low = this.sumLow;
    let integral = this.integral;
    for (let i = 0; i < n; i++) {
      const x = finite[i]!;
      count++;
      if (x < min) min = x;
      if (x > max) max = x;
      const delta = x - mean;
      mean += delta / count;
      m2 += delta * (x - mean);
      const t = high + x;
      low += Math.abs(high) >= Math.abs(x) ? high - t + x : x - t + high;
      high = t;
      if (integral && !Number.isInteger(x)) integral = false;
    }
    this.count = count;
    this.min = min;
    this.max = max;
    this.mean = mean;
    this.m2 = m2;
    this.sumHigh = high;
    this.sumLow = low;
    this.integral = integral;
  }

  /**
   * Distinct counts, kept values or the sketch, for finite values whose moments are taken. `owned`: the
   * caller gives the array up, so a profile keeping nothing yet may keep it as its values, uncopied.
   */
  private keep(finite: Float64Array, owned = false): void {
    const n = finite.length;
    const distinct = this.distinct;
    if (distinct) {
      for (let i = 0; i < n; i++) {
        const x = finite[i]!;
        const seen = distinct.get(x);
        if (seen !== undefined) distinct.set(x, seen + 1);
        else if (distinct.size < this.limits.distinctValues) distinct.set(x, 1);
        else {
          this.distinct = null;
          break;
        }
      }
    }

    let from = 0;
    if (this.exact && owned && this.exactLength === 0 && n <= this.limits.exactValues) {
      this.exact = finite;
      this.exactLength = n;
      return;
    }
    if (this.exact) {
      from = Math.min(n, this.limits.exactValues - this.exactLength);
      if (this.exactLength + from > this.exact.length) {
        const grown = new Float64Array(this.exactRoom(this.exactLength + from));
        grown.set(this.exact.subarray(0, this.exactLength));
        this.exact = grown;
      }
      this.exact.set(finite.subarray(0, from), this.exactLength);
      this.exactLength += from;
      // As add() does: the value after the last one kept turns the kept values into a sketch.
      if (from < n) this.dropExactValues();
    }
    if (from < n) this.kll!.updateAll(finite.subarray(from));
  }

  /**
   * Room for at least `needed` kept values (at most the limit): doubling while few, then 16,384 or the
   * limit at once, so a fold of a large object allocates the room for its values a handful of times, not
   * a dozen (every allocation is memory the garbage collector later has to find).
   */
  private exactRoom(needed: number): number {
    const doubled = this.exact!.length * 2;
    return Math.min(this.limits.exactValues, Math.max(needed, 64, doubled < 2048 ? doubled : Math.max(doubled, 16_384)));
  }

  /** Folds another profile of the same feature into this one. */
  merge(other: NumericalProfile): void {
    this.missing += other.missing;
    if (other.count === 0) return;
    const n = this.count + other.count;
    const delta = other.mean - this.mean;
    this.m2 = this.m2 + other.m2 + (delta * delta * this.count * other.count) / n;
    this.mean = this.count === 0 ? other.mean : this.mean + (delta * other.count) / n;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
    this.integral &&= other.integral;
    this.addToSum(other.sumHigh);
    this.addToSum(other.sumLow);

    if (this.distinct && other.distinct) {
      for (const [value, count] of other.distinct) this.distinct.set(value, (this.distinct.get(value) ?? 0) + count);
      if (this.distinct.size > this.limits.distinctValues) this.distinct = null;
    } else this.distinct = null;

    if (this.exact && other.exact && this.exactLength + other.exactLength <= this.limits.exactValues) {
      const joined = new Float64Array(Math.max(64, this.exactLength + other.exactLength));
      joined.set(this.exact.subarray(0, this.exactLength));
      joined.set(other.exact.subarray(0, other.exactLength), this.exactLength);
      this.exact = joined;
      this.exactLength += other.exactLength;
    } else {
      if (this.exact) this.dropExactValues();
      // Kept values join the sketch as one block (cheaper than one by one, or than sketching them first).
      if (other.exact) this.kll!.updateBatch(other.exact.subarray(0, other.exactLength));
      else this.kll!.merge(other.kll!);
    }
    this.count = n;
  }

  /** Whether the values went into the sketch (kept exactly until then). */
  get sketched(): boolean {
    return this.kll !== null;
  }

  /** The exact values (unsorted), while kept. */
  values(): Float64Array | null {
    return this.exact ? this.exact.slice(0, this.exactLength) : null;
  }

  /** Exact counts per distinct value, while there are few. */
  distinctCounts(): ReadonlyMap<number, number> | null {
    return this.distinct;
  }

  /** The KLL sketch of every value; built from the exact values while they are kept. */
  sketch(): KllSketch {
    if (this.kll) return this.kll;
    const sketch = new KllSketch(MODEL_MONITOR_KLL_K, MODEL_MONITOR_KLL_C, this.seed);
    sketch.updateAll(this.exact!.subarray(0, this.exactLength));
    return sketch;
  }

  get sum(): number {
    return this.sumHigh + this.sumLow;
  }

  private addToSum(x: number): void {
    const t = this.sumHigh + x;
    this.sumLow += Math.abs(this.sumHigh) >= Math.abs(x) ? this.sumHigh - t + x : x - t + this.sumHigh;
    this.sumHigh = t;
  }

  /** Population standard deviation (numpy's default ddof = 0). */
  get std(): number {
    return this.count === 0 ? NaN : Math.sqrt(Math.max(0, this.m2) / this.count);
  }

  private dropExactValues(): void {
    const sketch = new KllSketch(MODEL_MONITOR_KLL_K, MODEL_MONITOR_KLL_C, this.seed);
    sketch.updateAll(this.exact!.subarray(0, this.exactLength));
    this.kll = sketch;
    this.exact = null;
    this.exactLength = 0;
  }

  toJSON(): NumericalProfileJson {
    return {
      kind: 'numerical',
      count: this.count,
      missing: this.missing,
      min: this.count === 0 ? null : this.min,
      max: this.count === 0 ? null : this.max,
      mean: this.mean,
      m2: this.m2,
      sum: this.sum,
      integral: this.integral,
      values: this.exact ? Array.from(this.exact.subarray(0, this.exactLength)) : null,
      distinct: this.distinct ? [...this.distinct].sort((a, b) => a[0] - b[0]) : null,
      kll: this.kll ? this.kll.toModelMonitor() : null,
      seed: this.seed,
    };
  }

  toState(): NumericalProfileState {
    return {
      kind: 'numerical',
      seed: this.seed,
      count: this.count,
      missing: this.missing,
      min: this.min,
      max: this.max,
      mean: this.mean,
      m2: this.m2,
      sumHigh: this.sumHigh,
      sumLow: this.sumLow,
      integral: this.integral,
      exact: this.exact ? this.exact.slice(0, this.exactLength) : null,
      distinct: this.distinct ? [...this.distinct] : null,
      kll: this.kll ? this.kll.toState() : null,
    };
  }

  static fromState(state: NumericalProfileState, limits: ProfileLimits): NumericalProfile {
    const profile = new NumericalProfile(limits, state.seed);
    profile.count = state.count;
    profile.missing = state.missing;
    profile.min = state.min;
    profile.max = state.max;
    profile.mean = state.mean;
    profile.m2 = state.m2;
    profile.sumHigh = state.sumHigh;
    profile.sumLow = state.sumLow;
    profile.integral = state.integral;
    if (state.exact) {
      // Room to grow, as a profile built here has (add() doubles the array).
      profile.exact = state.exact.length === 0 ? NO_VALUES : state.exact.length >= 64 ? state.exact : new Float64Array(64);
      if (profile.exact !== state.exact && profile.exact !== NO_VALUES) profile.exact.set(state.exact);
      profile.exactLength = state.exact.length;
    } else profile.exact = null;
    profile.distinct = state.distinct ? new Map(state.distinct) : null;
    profile.kll = state.kll ? KllSketch.fromState(state.kll) : null;
    return profile;
  }

  static fromJSON(json: NumericalProfileJson, limits: ProfileLimits, where: string): NumericalProfile {
    const profile = new NumericalProfile(limits, finiteNumber(json.seed, `${where}.seed`));
    profile.count = count(json.count, `${where}.count`);
    profile.missing = count(json.missing, `${where}.missing`);
    profile.mean = finiteNumber(json.mean, `${where}.mean`);
    profile.m2 = finiteNumber(json.m2, `${where}.m2`);
    profile.sumHigh = finiteNumber(json.sum, `${where}.sum`);
    profile.integral = json.integral === true;
    if (profile.count > 0) {
      profile.min = finiteNumber(json.min, `${where}.min`);
      profile.max = finiteNumber(json.max, `${where}.max`);
    }
    if (json.distinct === null) profile.distinct = null;
    else {
      if (!Array.isArray(json.distinct)) throw new DriftInputError(`${where}.distinct must be an array of [value, count] or null`);
      profile.distinct = new Map(json.distinct.map(([v, c], i) => [finiteNumber(v, `${where}.distinct[${i}][0]`), count(c, `${where}.distinct[${i}][1]`)]));
    }
    if (Array.isArray(json.values)) {
      if (json.values.length !== profile.count) throw new DriftInputError(`${where}.values holds ${json.values.length} values but count is ${profile.count}`);
      profile.exact = new Float64Array(Math.max(64, json.values.length));
      json.values.forEach((v, i) => (profile.exact![i] = finiteNumber(v, `${where}.values[${i}]`)));
      profile.exactLength = json.values.length;
    } else {
      if (!json.kll) throw new DriftInputError(`${where} has neither values nor a kll sketch`);
      profile.exact = null;
      profile.kll = KllSketch.fromModelMonitor(json.kll, `${where}.kll`);
      if (profile.kll.count !== profile.count) throw new DriftInputError(`${where}.kll summarises ${profile.kll.count} values but count is ${profile.count}`);
    }
    return profile;
  }
}

/** Categories that are the integers 0 to SMALL_INTEGER_CATEGORIES - 1 can be added by number (addSmallInteger). */
export const SMALL_INTEGER_CATEGORIES = 1024;
const SMALL_INTEGER_NAMES = Array.from({ length: SMALL_INTEGER_CATEGORIES }, (_, i) => String(i));

export class CategoricalProfile {
  readonly kind = 'categorical' as const;
  count = 0;
  missing = 0;
  overflow = 0;
  private readonly tally = new Map<string, number>();
  /**
   * Counts of small-integer categories already in the tally, not yet added to it: addSmallInteger only
   * counts here, and the tally takes them (settle) before anyone reads it. Only counts wait, never a
   * category's first arrival, so the tally's order and the cap are what add() alone gives.
   */
  private waiting: Float64Array | null = null;
  /** The small integers whose category is in the tally, in the order they arrived. */
  private readonly inTally: number[] = [];

  constructor(readonly limits: ProfileLimits = DEFAULT_PROFILE_LIMITS) {}

  /** A category; the empty string is missing. */
  add(category: string): void {
    if (category === '') {
      this.missing++;
      return;
    }
    this.count++;
    const seen = this.tally.get(category);
    if (seen !== undefined) this.tally.set(category, seen + 1);
    // A new category is often cut from a chunk of many lines, read in place: kept as a copy, not as a
    // view that would keep the chunk alive as long as the tally.
    else if (this.tally.size < this.limits.categories) this.tally.set(detachedCopy(category), 1);
    else this.overflow++;
  }

  /** add(String(value)) for an integer 0 <= value < SMALL_INTEGER_CATEGORIES, without a map lookup once its category is known. */
  addSmallInteger(value: number): void {
    const waiting = this.waiting;
    if (waiting !== null && value < waiting.length && waiting[value]! > 0) {
      waiting[value]!++;
      this.count++;
      return;
    }
    const category = SMALL_INTEGER_NAMES[value]!;
    this.add(category);
    const inTally = this.tally.get(category);
    if (inTally === undefined) return;
    // Counted from now on in `waiting`, which holds 1 + the count not yet in the tally. It has room for the
    // largest small integer seen so far (most categorical features have a few dozen categories at most).
    if (this.waiting === null || value >= this.waiting.length) {
      const grown = new Float64Array(Math.min(SMALL_INTEGER_CATEGORIES, Math.max(64, 2 ** Math.ceil(Math.log2(value + 1)))));
      if (this.waiting !== null) grown.set(this.waiting);
      this.waiting = grown;
    }
    if (this.waiting[value] === 0) {
      this.waiting[value] = 1;
      this.inTally.push(value);
    }
  }

  addMissing(times = 1): void {
    this.missing += times;
  }

  counts(): ReadonlyMap<string, number> {
    this.settle();
    return this.tally;
  }

  /** Adds the waiting counts to the tally. */
  private settle(): void {
    const waiting = this.waiting;
    if (waiting === null) return;
    for (const value of this.inTally) {
      const more = waiting[value]! - 1;
      if (more === 0) continue;
      const category = SMALL_INTEGER_NAMES[value]!;
      this.tally.set(category, this.tally.get(category)! + more);
      waiting[value] = 1;
    }
  }

  /** Over the cap, the most frequent categories stay (ties by name) and the rest join the overflow. */
  merge(other: CategoricalProfile): void {
    this.settle();
    other.settle();
    this.count += other.count;
    this.missing += other.missing;
    this.overflow += other.overflow;
    for (const [category, n] of other.tally) this.tally.set(category, (this.tally.get(category) ?? 0) + n);
    if (this.tally.size <= this.limits.categories) return;
    // Categories leave the tally: the small integers known to be in it start again from add().
    this.waiting = null;
    this.inTally.length = 0;
    const ranked = [...this.tally].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (const [category, n] of ranked.slice(this.limits.categories)) {
      this.tally.delete(category);
      this.overflow += n;
    }
  }

  toJSON(): CategoricalProfileJson {
    this.settle();
    return {
      kind: 'categorical',
      count: this.count,
      missing: this.missing,
      categories: [...this.tally].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)),
      overflow: this.overflow,
    };
  }

  toState(): CategoricalProfileState {
    this.settle();
    return { kind: 'categorical', count: this.count, missing: this.missing, overflow: this.overflow, tally: [...this.tally] };
  }

  static fromState(state: CategoricalProfileState, limits: ProfileLimits): CategoricalProfile {
    const profile = new CategoricalProfile(limits);
    profile.count = state.count;
    profile.missing = state.missing;
    profile.overflow = state.overflow;
    for (const [category, n] of state.tally) profile.tally.set(category, n);
    return profile;
  }

  static fromJSON(json: CategoricalProfileJson, limits: ProfileLimits, where: string): CategoricalProfile {
    const profile = new CategoricalProfile(limits);
    profile.count = count(json.count, `${where}.count`);
    profile.missing = count(json.missing, `${where}.missing`);
    profile.overflow = count(json.overflow, `${where}.overflow`);
    if (!Array.isArray(json.categories)) throw new DriftInputError(`${where}.categories must be an array of [category, count]`);
    json.categories.forEach(([c, n], i) => {
      if (typeof c !== 'string') throw new DriftInputError(`${where}.categories[${i}][0] must be a string`);
      profile.tally.set(c, count(n, `${where}.categories[${i}][1]`));
    });
    return profile;
  }
}

export type FeatureProfile = NumericalProfile | CategoricalProfile;

export interface ProfiledFeature {
  name: string;
  type: FeatureKind;
}

export interface DatasetProfileJson {
  /** Rows profiled (each row gives every feature a value or a missing). */
  rows: number;
  limits: ProfileLimits;
  features: ({ name: string } & FeatureProfileJson)[];
}

/** One profile per feature, plus the number of rows. A feature can be absent (a missing column). */
export class DatasetProfile {
  rows = 0;
  readonly features = new Map<string, FeatureProfile>();

  constructor(
    features: readonly ProfiledFeature[],
    readonly limits: ProfileLimits = DEFAULT_PROFILE_LIMITS,
    seed = 1,
  ) {
    features.forEach((f, i) => {
      this.features.set(f.name, f.type === 'numerical' ? new NumericalProfile(limits, mixSeed(seed, i)) : new CategoricalProfile(limits));
    });
  }

  feature(name: string): FeatureProfile | undefined {
    return this.features.get(name);
  }

  merge(other: DatasetProfile): void {
    this.rows += other.rows;
    for (const [name, profile] of other.features) {
      const mine = this.features.get(name);
      if (!mine) throw new DriftInputError(`cannot merge profiles: feature "${name}" is in one and not the other`);
      if (mine.kind !== profile.kind) throw new DriftInputError(`cannot merge profiles: feature "${name}" is ${mine.kind} in one and ${profile.kind} in the other`);
      if (mine.kind === 'numerical') mine.merge(profile as NumericalProfile);
      else mine.merge(profile as CategoricalProfile);
    }
  }

  toJSON(): DatasetProfileJson {
    return { rows: this.rows, limits: { ...this.limits }, features: [...this.features].map(([name, p]) => ({ name, ...p.toJSON() })) };
  }

  /** An exact copy for another thread; `transfer` gets the buffers postMessage may move instead of copying. */
  toState(transfer?: ArrayBuffer[]): DatasetProfileState {
    const features = [...this.features].map(([name, p]): DatasetProfileState['features'][number] => [name, p.toState()]);
    if (transfer) {
      for (const [, f] of features) {
        if (f.kind !== 'numerical') continue;
        if (f.exact) transfer.push(f.exact.buffer as ArrayBuffer);
        for (const level of f.kll?.levels ?? []) transfer.push(level.buffer as ArrayBuffer);
      }
    }
    return { rows: this.rows, limits: { ...this.limits }, features };
  }

  static fromState(state: DatasetProfileState): DatasetProfile {
    const profile = new DatasetProfile([], state.limits);
    profile.rows = state.rows;
    for (const [name, f] of state.features) {
      profile.features.set(name, f.kind === 'numerical' ? NumericalProfile.fromState(f, state.limits) : CategoricalProfile.fromState(f, state.limits));
    }
    return profile;
  }

  static fromJSON(json: DatasetProfileJson, where = 'profile'): DatasetProfile {
    if (typeof json !== 'object' || json === null || !Array.isArray(json.features)) throw new DriftInputError(`${where} must be an object with a "features" array`);
    const limits: ProfileLimits = {
      exactValues: count(json.limits?.exactValues, `${where}.limits.exactValues`),
      distinctValues: count(json.limits?.distinctValues, `${where}.limits.distinctValues`),
      categories: count(json.limits?.categories, `${where}.limits.categories`),
    };
    const profile = new DatasetProfile([], limits);
    profile.rows = count(json.rows, `${where}.rows`);
    json.features.forEach((f, i) => {
      const at = `${where}.features[${i}]`;
      if (typeof f?.name !== 'string' || f.name === '') throw new DriftInputError(`${at}.name must be a non-empty string`);
      if (f.kind === 'numerical') profile.features.set(f.name, NumericalProfile.fromJSON(f, limits, at));
      else if (f.kind === 'categorical') profile.features.set(f.name, CategoricalProfile.fromJSON(f, limits, at));
      else throw new DriftInputError(`${at}.kind must be "numerical" or "categorical"`);
    });
    return profile;
  }

  /**
   * Profiles in-memory columns, with compareDatasets' rules for missing values: non-finite numbers,
   * numerical strings that are not numbers, and empty strings. Numbers in a categorical column count as
   * the category of their decimal string. A feature without a column is left out (a missing column).
   */
  static ofColumns(features: readonly ProfiledFeature[], columns: Record<string, readonly (number | string)[]>, limits: ProfileLimits = DEFAULT_PROFILE_LIMITS): DatasetProfile {
    const present = features.filter((f) => Array.isArray(columns[f.name]));
    const profile = new DatasetProfile(present, limits);
    profile.rows = Math.max(0, ...present.map((f) => columns[f.name]!.length));
    for (const f of present) {
      const target = profile.features.get(f.name)!;
      for (const v of columns[f.name]!) {
        if (target.kind === 'numerical') target.add(typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN);
        else if (typeof v === 'number') target.add(Number.isFinite(v) ? String(v) : '');
        else target.add(typeof v === 'string' && v.trim() !== '' ? v : '');
      }
    }
    return profile;
  }
}

function finiteNumber(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new DriftInputError(`${where} must be a finite number, got ${JSON.stringify(value)}`);
  return value;
}

function count(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new DriftInputError(`${where} must be a non-negative integer, got ${JSON.stringify(value)}`);
  return value;
}
