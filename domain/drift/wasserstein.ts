// Wasserstein-1 (earth mover's) distance divided by the reference's standard deviation, as Evidently
// does, so one threshold (0.1 = a tenth of a standard deviation of mass moved) fits every feature's units.
import type { FeatureProfile } from './profile';
import { numericalProfiles, populationStd, sortedFinite, weightedSampleOf, weightedWasserstein } from './samples';
import { decide, errorBound, type DriftMethod, type ProfileComparison } from './types';

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

export function normalisedWasserstein(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  const a = sortedFinite(reference, 'wasserstein', 'reference');
  const b = sortedFinite(current, 'wasserstein', 'current');
  return wassersteinDistance(a, b) / Math.max(populationStd(a), MIN_NORMALISER);
}

/**
 * From two profiles: normalisedWasserstein itself when both kept their values; otherwise ∫|F − G| over
 * the CDFs read from values, distinct counts or sketches, divided by the reference's standard deviation
 * (exact from the values, else from Welford's running moments). Each sketched CDF is within its rank error
 * of the true one on [min, max] and equal outside, so the distance is off by at most
 * (ε_reference + ε_current)·(max − min) / normaliser.
 */
export function normalisedWassersteinOfProfiles(reference: FeatureProfile, current: FeatureProfile, threshold = DEFAULT_DISTANCE_THRESHOLD): ProfileComparison {
  const [ref, cur] = numericalProfiles(reference, current, 'wasserstein');
  const refValues = ref.values();
  const curValues = cur.values();
  if (refValues && curValues) {
    const statistic = normalisedWasserstein(refValues, curValues);
    return { statistic, drifted: decide('distance', statistic, threshold), threshold, basis: 'exact' };
  }
  const a = weightedSampleOf(ref, 'wasserstein', 'reference');
  const b = weightedSampleOf(cur, 'wasserstein', 'current');
  const normaliser = Math.max(refValues ? populationStd(a.values) : ref.std, MIN_NORMALISER);
  const statistic = weightedWasserstein(a, b) / normaliser;
  const result: ProfileComparison = { statistic, drifted: decide('distance', statistic, threshold), threshold, basis: 'exact' };
  const error = a.rankError + b.rankError;
  if (error > 0) {
    const spread = (Math.max(ref.max, cur.max) - Math.min(ref.min, cur.min)) / normaliser;
    result.basis = 'sketch';
    result.errorBound = errorBound('distance', [Math.max(0, statistic - error * spread), statistic + error * spread], threshold, { reference: a.rankError, current: b.rankError });
  }
  return result;
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
  compareProfiles: normalisedWassersteinOfProfiles,
};
