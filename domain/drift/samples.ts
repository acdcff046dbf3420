// Shared shaping of samples: sorted finite numbers, and category frequencies over the union of both
// samples' categories.
import { DriftInputError } from './types';

export function sortedFinite(values: readonly number[], method: string, side: string): Float64Array {
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

function countCategories(values: readonly (number | string)[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const v of values) {
    const key = String(v);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}
