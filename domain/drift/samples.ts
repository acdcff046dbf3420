// Shared shaping of samples: sorted finite numbers, and category frequencies over the union of both
// samples' categories; for profiles, the same shapes read from exact values, distinct counts or sketches.
import type { CategoricalProfile, FeatureProfile, NumericalProfile } from './profile';
import { DriftInputError } from './types';

export function sortedFinite(values: ArrayLike<number>, method: string, side: string): Float64Array {
  if (values.length === 0) throw new DriftInputError(`${method}: the ${side} sample is empty`);
  const sorted = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new DriftInputError(`${method}: the ${side} sample holds a non-finite value at index ${i} (${String(v)})`);
    }
    sorted[i] = v;
  }
  return sorted.sort();
}

/** Population standard deviation (numpy's np.std, ddof=0), two-pass for accuracy. */
export function populationStd(values: Float64Array): number {
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / values.length;
  let squares = 0;
  for (const v of values) squares += (v - mean) * (v - mean);
  return Math.sqrt(squares / values.length);
}

/** Quantile with linear interpolation between order statistics (numpy's default 'linear' method). */
export function quantileOfSorted(sorted: Float64Array, q: number): number {
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  const fraction = position - below;
  return sorted[below] + fraction * (sorted[above] - sorted[below]);
}

export interface CategoryFrequencies {
  /** Every category seen in either sample, sorted so results do not depend on input order. */
  categories: string[];
  reference: number[];
  current: number[];
  referenceTotal: number;
  currentTotal: number;
}

/** Counts per category; numbers count as the category of their decimal string ("1" and 1 coincide). */
export function categoryFrequencies(reference: readonly (number | string)[], current: readonly (number | string)[], method: string): CategoryFrequencies {
  if (reference.length === 0) throw new DriftInputError(`${method}: the reference sample is empty`);
  if (current.length === 0) throw new DriftInputError(`${method}: the current sample is empty`);
  const referenceCounts = countCategories(reference);
  const currentCounts = countCategories(current);
  const categories = [...new Set([...referenceCounts.keys(), ...currentCounts.keys()])].sort();
  return {
    categories,
    reference: categories.map((c) => referenceCounts.get(c) ?? 0),
    current: categories.map((c) => currentCounts.get(c) ?? 0),
    referenceTotal: reference.length,
    currentTotal: current.length,
  };
}

function countCategories(values: Iterable<number | string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const v of values) {
    const key = String(v);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

// --- Profiles ---------------------------------------------------------------------------------------

/** The category a profile pools overflow into; sorts before every real category and never collides. */
export const POOLED_CATEGORY = '\u0000pooled';

/**
 * Exact counts per category: a categorical profile's tally, or a numerical profile's values or distinct
 * counts as the categories of their decimal strings. null when a numerical profile kept neither.
 */
export function categoryCountsOf(profile: FeatureProfile): { counts: ReadonlyMap<string, number>; overflow: number } | null {
  if (profile.kind === 'categorical') return { counts: profile.counts(), overflow: profile.overflow };
  const values = profile.values();
  if (values) return { counts: countCategories(values), overflow: 0 };
  const distinct = profile.distinctCounts();
  if (distinct) return { counts: new Map([...distinct].map(([v, n]) => [String(v), n])), overflow: 0 };
  return null;
}

/**
 * categoryFrequencies from two profiles. When either side pooled categories past its cap, every category
 * not counted on both sides joins the pool on both, so the two describe the same (coarser) partition.
 */
export function profileCategoryFrequencies(reference: FeatureProfile, current: FeatureProfile, method: string): CategoryFrequencies & { pooled: boolean } {
  const ref = categoryCountsOf(reference);
  const cur = categoryCountsOf(current);
  if (!ref || !cur) {
    const limits = (ref ? current : reference).limits;
    throw new DriftInputError(
      `${method} compares numbers as categories and needs exact counts, but the ${ref ? 'current' : 'reference'} sample has more than ${limits.exactValues} values and more than ${limits.distinctValues} distinct ones`,
    );
  }
  if (reference.count === 0) throw new DriftInputError(`${method}: the reference sample is empty`);
  if (current.count === 0) throw new DriftInputError(`${method}: the current sample is empty`);
  const pooled = ref.overflow > 0 || cur.overflow > 0;
  const shared = (c: string) => !pooled || (ref.counts.has(c) && cur.counts.has(c));
  const categories = [...new Set([...ref.counts.keys(), ...cur.counts.keys()])].filter(shared).sort();
  const tally = (side: { counts: ReadonlyMap<string, number>; overflow: number }) => categories.map((c) => side.counts.get(c) ?? 0);
  const frequencies = { categories, reference: tally(ref), current: tally(cur), referenceTotal: reference.count, currentTotal: current.count, pooled };
  if (pooled) {
    const rest = (side: number[], total: number) => total - side.reduce((a, b) => a + b, 0);
    frequencies.categories = [POOLED_CATEGORY, ...categories];
    frequencies.reference = [rest(frequencies.reference, reference.count), ...frequencies.reference];
    frequencies.current = [rest(frequencies.current, current.count), ...frequencies.current];
  }
  return frequencies;
}

/** A sorted sample with weights: exact values (weight 1), distinct counts, or a sketch's items. */
export interface WeightedSample {
  values: Float64Array;
  weights: Float64Array;
  total: number;
  /** Largest |F_sample(x) − F_every value(x)|, as a share: 0 unless read from a compacted sketch. */
  rankError: number;
}

export function weightedSampleOf(profile: NumericalProfile, method: string, side: string): WeightedSample {
  if (profile.count === 0) throw new DriftInputError(`${method}: the ${side} sample is empty`);
  const values = profile.values();
  if (values) return { values: values.sort(), weights: new Float64Array(values.length).fill(1), total: values.length, rankError: 0 };
  const distinct = profile.distinctCounts();
  if (distinct) {
    const entries = [...distinct].sort((a, b) => a[0] - b[0]);
    return { values: Float64Array.from(entries, (e) => e[0]), weights: Float64Array.from(entries, (e) => e[1]), total: profile.count, rankError: 0 };
  }
  const sketch = profile.sketch();
  const { values: sorted, weights } = sketch.sortedItems();
  return {
    values: sorted,
    weights,
    total: sketch.count,
    rankError: sketch.normalizedRankError,
  };
}

/** sup_x |F_a(x) − F_b(x)|, the two-sample KS statistic, over weighted samples. */
export function largestCdfGap(a: WeightedSample, b: WeightedSample): number {
  let i = 0;
  let j = 0;
  let below = 0;
  let belowOther = 0;
  let largest = 0;
  while (i < a.values.length || j < b.values.length) {
    const next = j >= b.values.length || (i < a.values.length && a.values[i]! <= b.values[j]!) ? a.values[i]! : b.values[j]!;
    while (i < a.values.length && a.values[i]! <= next) below += a.weights[i++]!;
    while (j < b.values.length && b.values[j]! <= next) belowOther += b.weights[j++]!;
    largest = Math.max(largest, Math.abs(below / a.total - belowOther / b.total));
  }
  return largest;
}

/** ∫ |F_a(x) − F_b(x)| dx over weighted samples: the Wasserstein-1 distance. */
export function weightedWasserstein(a: WeightedSample, b: WeightedSample): number {
  let i = 0;
  let j = 0;
  let below = 0;
  let belowOther = 0;
  let distance = 0;
  let position = Math.min(a.values[0]!, b.values[0]!);
  for (;;) {
    while (i < a.values.length && a.values[i]! <= position) below += a.weights[i++]!;
    while (j < b.values.length && b.values[j]! <= position) belowOther += b.weights[j++]!;
    if (i === a.values.length && j === b.values.length) return distance;
    const next = j >= b.values.length || (i < a.values.length && a.values[i]! <= b.values[j]!) ? a.values[i]! : b.values[j]!;
    distance += Math.abs(below / a.total - belowOther / b.total) * (next - position);
    position = next;
  }
}

/**
 * numpy's linear-interpolation quantile over a weighted sample: the order statistics at ⌊(n−1)q⌋ and
 * the next, where an item of weight w stands for w equal order statistics.
 */
export function weightedQuantile(sample: WeightedSample, q: number): number {
  const position = (sample.total - 1) * q;
  const below = Math.floor(position);
  const lower = orderStatistic(sample, below);
  const upper = orderStatistic(sample, Math.min(below + 1, sample.total - 1));
  return lower + (position - below) * (upper - lower);
}

function orderStatistic(sample: WeightedSample, k: number): number {
  let seen = 0;
  for (let i = 0; i < sample.values.length; i++) {
    seen += sample.weights[i]!;
    if (seen > k) return sample.values[i]!;
  }
  return sample.values[sample.values.length - 1]!;
}

/** Weight per right-closed bin (e[k−1], e[k]], open at both ends. */
export function weightedBinCounts(sample: WeightedSample, edges: readonly number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  let bin = 0;
  for (let i = 0; i < sample.values.length; i++) {
    while (bin < edges.length && sample.values[i]! > edges[bin]!) bin++;
    counts[bin] += sample.weights[i]!;
  }
  return counts;
}

export function isCategorical(profile: FeatureProfile): profile is CategoricalProfile {
  return profile.kind === 'categorical';
}

export function numericalProfiles(reference: FeatureProfile, current: FeatureProfile, method: string): [NumericalProfile, NumericalProfile] {
  if (reference.kind !== 'numerical' || current.kind !== 'numerical') throw new DriftInputError(`${method} compares numerical profiles only`);
  return [reference, current];
}
