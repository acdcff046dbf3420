// SageMaker Model Monitor's categorical drift distance (its "LInfinity" check): the largest gap between
// the two samples' shares of any category, max_c |count_ref(c)/n − count_cur(c)/m|. The robust variant
// subtracts 1.8·sqrt((n+m)/(n·m)) and floors at 0, so small samples' sampling noise alone does not
// cross the threshold. Model Monitor's default comparison threshold is 0.1; here, as for every distance
// method, drift means statistic ≥ threshold.
import { categoryFrequencies, profileCategoryFrequencies, type CategoryFrequencies } from './samples';
import { decide, type DriftMethod } from './types';

const DEFAULT_DISTANCE_THRESHOLD = 0.1;
const ROBUST_ALLOWANCE = 1.8;

export function lInfinityDistance(reference: readonly (number | string)[], current: readonly (number | string)[], robust = false): number {
  return lInfinityOfFrequencies(categoryFrequencies(reference, current, robust ? 'linf_robust' : 'linf'), robust);
}

export function lInfinityOfFrequencies(f: CategoryFrequencies, robust: boolean): number {
  let largest = 0;
  for (let k = 0; k < f.categories.length; k++) {
    largest = Math.max(largest, Math.abs(f.reference[k] / f.referenceTotal - f.current[k] / f.currentTotal));
  }
  if (!robust) return largest;
  const n = f.referenceTotal;
  const m = f.currentTotal;
  return Math.max(0, largest - ROBUST_ALLOWANCE * Math.sqrt((n + m) / (n * m)));
}

function lInfinityMethod(robust: boolean): DriftMethod {
  return {
    name: robust ? 'linf_robust' : 'linf',
    appliesTo: ['categorical'],
    yields: 'distance',
    defaultThreshold: DEFAULT_DISTANCE_THRESHOLD,
    compare(reference, current, threshold = DEFAULT_DISTANCE_THRESHOLD) {
      const statistic = lInfinityDistance(reference, current, robust);
      return { statistic, drifted: decide('distance', statistic, threshold), threshold };
    },
    compareProfiles(reference, current, threshold = DEFAULT_DISTANCE_THRESHOLD) {
      const f = profileCategoryFrequencies(reference, current, robust ? 'linf_robust' : 'linf');
      const statistic = lInfinityOfFrequencies(f, robust);
      return { statistic, drifted: decide('distance', statistic, threshold), threshold, basis: f.pooled ? 'pooled_categories' : 'exact' };
    },
  };
}

export const linf = lInfinityMethod(false);
export const linfRobust = lInfinityMethod(true);
