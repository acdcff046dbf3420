// Chi-square goodness of fit of the current category counts against the reference's proportions.
// Formulation (Evidently's, and scipy.stats.chisquare's semantics):
//   f_obs = current counts per category, f_exp = reference counts · (n_current / n_reference),
//   over the union of both samples' categories; p = chi2.sf(Σ (f_obs − f_exp)² / f_exp, k − 1).
// The reference is treated as the known distribution, not as a second sample (that would be a
// contingency-table test). A category the reference never saw has f_exp = 0, so the statistic is
// +Infinity and p = 0, as in scipy: a brand-new category is drift.
// Numbers are compared as categories, which suits the low-cardinality numerical features the registry
// sends here.
import { chiSquareSurvival } from './gamma';
import { categoryFrequencies, profileCategoryFrequencies, type CategoryFrequencies } from './samples';
import { decide, type DriftMethod } from './types';

export interface ChiSquareResult {
  statistic: number;
  pValue: number;
  degreesOfFreedom: number;
}

export function chiSquareGoodnessOfFit(reference: readonly (number | string)[], current: readonly (number | string)[]): ChiSquareResult {
  return chiSquareOfFrequencies(categoryFrequencies(reference, current, 'chisquare'));
}

export function chiSquareOfFrequencies(f: CategoryFrequencies): ChiSquareResult {
  const scale = f.currentTotal / f.referenceTotal;
  let statistic = 0;
  for (let k = 0; k < f.categories.length; k++) {
    const expected = f.reference[k] * scale;
    const difference = f.current[k] - expected;
    statistic += expected === 0 ? Infinity : (difference * difference) / expected;
  }
  const degreesOfFreedom = f.categories.length - 1;
  // One category in both samples: the distributions are identical, whereas scipy would return NaN (df = 0).
  const pValue = degreesOfFreedom === 0 ? 1 : statistic === Infinity ? 0 : chiSquareSurvival(statistic, degreesOfFreedom);
  return { statistic, pValue, degreesOfFreedom };
}

const DEFAULT_P_VALUE_THRESHOLD = 0.05;

export const chisquare: DriftMethod = {
  name: 'chisquare',
  appliesTo: ['categorical', 'numerical'],
  yields: 'p_value',
  defaultThreshold: DEFAULT_P_VALUE_THRESHOLD,
  compare(reference, current, threshold = DEFAULT_P_VALUE_THRESHOLD) {
    const { statistic, pValue } = chiSquareGoodnessOfFit(reference, current);
    return { statistic, pValue, drifted: decide('p_value', pValue, threshold), threshold };
  },
  compareProfiles(reference, current, threshold = DEFAULT_P_VALUE_THRESHOLD) {
    const f = profileCategoryFrequencies(reference, current, 'chisquare');
    const { statistic, pValue } = chiSquareOfFrequencies(f);
    return { statistic, pValue, drifted: decide('p_value', pValue, threshold), threshold, basis: f.pooled ? 'pooled_categories' : 'exact' };
  },
};
