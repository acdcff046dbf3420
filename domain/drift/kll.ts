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

export const MODEL_MONITOR_KLL_K = 2048;
export const MODEL_MONITOR_KLL_C = 0.64;

export class KllSketch {
  private levels: number[][] = [[]];
  private retained = 0;
  private total = 0;
  /** Each level's capacity and their sum; they depend only on how many levels there are, so they are cached. */
  private capacities: number[] = [];
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
    sketch.levels = json.data.map((level, h) => {
      if (!Array.isArray(level) || level.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
        throw new RangeError(`${where}: data[${h}] must be an array of finite numbers`);
      }
      return [...level];
    });
    if (sketch.levels.length === 0) sketch.levels = [[]];
    sketch.retained = sketch.levels.reduce((n, level) => n + level.length, 0);
    sketch.total = sketch.levels.reduce((n, level, h) => n + level.length * 2 ** h, 0);
    sketch.capacityTotal = sketch.capacity();
    return sketch;
  }

  toModelMonitor(): KllSketchJson {
    return { parameters: { c: this.c, k: this.k }, data: this.levels.map((level) => [...level]) };
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
    this.levels[0]!.push(value);
    this.retained++;
    this.total++;
    if (this.retained >= this.capacityTotal) this.compress();
  }

  merge(other: KllSketch): void {
    other.levels.forEach((level, h) => {
      while (this.levels.length <= h) this.levels.push([]);
      for (const v of level) this.levels[h]!.push(v);
    });
    this.retained += other.retained;
    this.total += other.total;
    this.capacityTotal = this.capacity();
    while (this.retained >= this.capacityTotal) this.compress();
  }

  /** Share of values ≤ x. */
  cdf(x: number): number {
    if (this.total === 0) return NaN;
    let below = 0;
    this.levels.forEach((level, h) => {
      const weight = 2 ** h;
      for (const v of level) if (v <= x) below += weight;
    });
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
    this.levels.forEach((level, h) => {
      const weight = 2 ** h;
      for (const value of level) items.push({ value, weight });
    });
    return items.sort((a, b) => a.value - b.value);
  }

  /**
   * The rank error, as a share of the count, that holds with 99% confidence: Apache DataSketches'
   * empirical fit for KLL, 2.296 / k^0.9723. While nothing has been compacted the sketch is exact (0).
   */
  get normalizedRankError(): number {
    return this.levels.length === 1 ? 0 : 2.296 / this.k ** 0.9723;
  }

  /** Capacity of the level at height h: k at the top, shrinking by c per level below, at least 2. */
  private levelCapacity(h: number): number {
    const depth = this.levels.length - 1 - h;
    return Math.max(2, Math.ceil(this.k * this.c ** depth));
  }

  /** Recomputes the cached capacities and returns their sum. */
  private capacity(): number {
    this.capacities = this.levels.map((_, h) => this.levelCapacity(h));
    return this.capacities.reduce((a, b) => a + b, 0);
  }

  /** Compacts the lowest full level into the one above it. */
  private compress(): void {
    for (let h = 0; h < this.levels.length; h++) {
      const level = this.levels[h]!;
      if (level.length < this.capacities[h]!) continue;
      if (h + 1 === this.levels.length) {
        this.levels.push([]);
        this.capacityTotal = this.capacity();
      }
      // A typed array sorts numbers several times faster than a comparator sort.
      const sorted = Float64Array.from(level).sort();
      // An odd item out stays behind, so every promoted pair is a real pair and weight is conserved.
      const pairs = sorted.length - (sorted.length % 2);
      const offset = this.random() < 0.5 ? 0 : 1;
      const above = this.levels[h + 1]!;
      for (let i = offset; i < pairs; i += 2) above.push(sorted[i]!);
      this.retained -= pairs / 2;
      this.levels[h] = pairs < sorted.length ? [sorted[pairs]!] : [];
      return;
    }
  }
}
