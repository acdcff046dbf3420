// SageMaker Model Monitor's drift distance (its baseline_drift_check, "LInfinity"), for both kinds of
// feature as Model Monitor applies it:
//   - categorical: the largest gap between the two samples' shares of any category,
//     max_c |count_ref(c)/n − count_cur(c)/m|;
//   - numerical: the largest gap between the two empirical CDFs, sup_x |F_ref(x) − F_cur(x)| (the
//     two-sample KS statistic D, used as a distance): from every value where both profiles kept them,
//     from the KLL sketches otherwise, within the sum of their rank errors.
// The robust variant subtracts 1.8·sqrt((n+m)/(n·m)) and floors at 0, so small samples' sampling noise
// alone does not cross the threshold. Model Monitor's default comparison threshold is 0.1; here, as for
// every distance method, drift means statistic ≥ threshold.
// On arrays, numbers are compared as a numerical feature and strings as categories; on profiles the
// profile's kind decides.
import {
  categoryFrequencies,
  largestCdfGap,
  profileCategoryFrequencies,
  sortedFinite,
  weightedSampleOf,
  type CategoryFrequencies,
  type WeightedSample,
} from './samples';
import { decide, errorBound, type DriftMethod, type ProfileComparison } from './types';

const DEFAULT_DISTANCE_THRESHOLD = 0.1;
const ROBUST_ALLOWANCE = 1.8;

export function lInfinityDistance(reference: readonly (number | string)[], current: readonly (number | string)[], robust = false): number {
  return lInfinityOfFrequencies(categoryFrequencies(reference, current, robust ? 'linf_robust' : 'linf'), robust);
}

function robustAdjusted(distance: number, n: number, m: number): number {
  return Math.max(0, distance - ROBUST_ALLOWANCE * Math.sqrt((n + m) / (n * m)));
}

export function lInfinityOfFrequencies(f: CategoryFrequencies, robust: boolean): number {
  let largest = 0;
  for (let k = 0; k < f.categories.length; k++) {
    largest = Math.max(largest, Math.abs(f.reference[k] / f.referenceTotal - f.current[k] / f.currentTotal));
  }
  return robust ? robustAdjusted(largest, f.referenceTotal, f.currentTotal) : largest;
}

/** The numerical distance: the largest CDF gap between two weighted samples, robust-adjusted if asked. */
export function cdfLInfinity(reference: WeightedSample, current: WeightedSample, robust: boolean): number {
  const gap = largestCdfGap(reference, current);
  return robust ? robustAdjusted(gap, reference.total, current.total) : gap;
}

function exactSample(sorted: Float64Array): WeightedSample {
  return { values: sorted, weights: new Float64Array(sorted.length).fill(1), total: sorted.length, rankError: 0 };
}

const isNumbers = (values: readonly (number | string)[]): values is number[] => values.every((v) => typeof v === 'number');

function lInfinityMethod(robust: boolean): DriftMethod {
  const name = robust ? 'linf_robust' : 'linf';
  return {
    name,
    appliesTo: ['categorical', 'numerical'],
    yields: 'distance',
    defaultThreshold: DEFAULT_DISTANCE_THRESHOLD,
    compare(reference, current, threshold = DEFAULT_DISTANCE_THRESHOLD) {
      const statistic =
        isNumbers(reference) && isNumbers(current)
          ? cdfLInfinity(exactSample(sortedFinite(reference, name, 'reference')), exactSample(sortedFinite(current, name, 'current')), robust)
          : lInfinityDistance(reference, current, robust);
      return { statistic, drifted: decide('distance', statistic, threshold), threshold };
    },
    compareProfiles(reference, current, threshold = DEFAULT_DISTANCE_THRESHOLD): ProfileComparison {
      if (reference.kind === 'numerical' && current.kind === 'numerical') {
        const a = weightedSampleOf(reference, name, 'reference');
        const b = weightedSampleOf(current, name, 'current');
        const statistic = cdfLInfinity(a, b, robust);
        const result = { statistic, drifted: decide('distance', statistic, threshold), threshold };
        if (a.rankError === 0 && b.rankError === 0) return { ...result, basis: 'exact' };
        // Each CDF is within its rank error everywhere, so the largest gap moves by at most their sum.
        const gap = largestCdfGap(a, b);
        const slack = a.rankError + b.rankError;
        const adjust = (d: number) => (robust ? robustAdjusted(d, a.total, b.total) : d);
        const range: [number, number] = [adjust(Math.max(0, gap - slack)), adjust(Math.min(1, gap + slack))];
        return { ...result, basis: 'sketch', errorBound: errorBound('distance', range, threshold, { reference: a.rankError, current: b.rankError }) };
      }
      const f = profileCategoryFrequencies(reference, current, name);
      const statistic = lInfinityOfFrequencies(f, robust);
      return { statistic, drifted: decide('distance', statistic, threshold), threshold, basis: f.pooled ? 'pooled_categories' : 'exact' };
    },
  };
}

export const linf = lInfinityMethod(false);
export const linfRobust = lInfinityMethod(true);
