// Wasserstein-1 (earth mover's) distance divided by the reference's standard deviation, as Evidently
// does, so one threshold (0.1 = a tenth of a standard deviation of mass moved) fits every feature's units.
import { populationStd, sortedFinite } from './samples';
import { decide, type DriftMethod } from './types';

/** Evidently's floor: a constant reference would otherwise divide by zero. */
const MIN_NORMALISER = 0.001;
const DEFAULT_DISTANCE_THRESHOLD = 0.1;

/** ∫ |F_reference(x) − F_current(x)| dx, as scipy.stats.wasserstein_distance(reference, current). */
export function wassersteinDistance(reference: Float64Array, current: Float64Array): number {
  const n1 = reference.length;
  const n2 = current.length;
  let i = 0;
  let j = 0;
  let distance = 0;
  let position = Math.min(reference[0], current[0]);
  while (i < n1 || j < n2) {
    while (i < n1 && reference[i] <= position) i++;
    while (j < n2 && current[j] <= position) j++;
    if (i === n1 && j === n2) break;
    const next = j >= n2 || (i < n1 && reference[i] <= current[j]) ? reference[i] : current[j];
    distance += Math.abs(i / n1 - j / n2) * (next - position);
    position = next;
  }
  return distance;
}

export function normalisedWasserstein(reference: readonly number[], current: readonly number[]): number {
  const a = sortedFinite(reference, 'wasserstein', 'reference');
  const b = sortedFinite(current, 'wasserstein', 'current');
  return wassersteinDistance(a, b) / Math.max(populationStd(a), MIN_NORMALISER);
}

export const wasserstein: DriftMethod<number> = {
  name: 'wasserstein',
  appliesTo: ['numerical'],
  yields: 'distance',
  defaultThreshold: DEFAULT_DISTANCE_THRESHOLD,
  compare(reference, current, threshold = DEFAULT_DISTANCE_THRESHOLD) {
    const statistic = normalisedWasserstein(reference, current);
    return { statistic, drifted: decide('distance', statistic, threshold), threshold };
  },
};
