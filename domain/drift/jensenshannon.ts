// Jensen–Shannon distance (base 2, so it lies in [0, 1]) between the two samples' category shares,
// as scipy.spatial.distance.jensenshannon(p, q, base=2). Symmetric and finite even when a category is
// missing from one side, which is why it suits large categorical samples.
// Numbers are compared as categories (meant for low-cardinality numerical features).
import { categoryFrequencies, profileCategoryFrequencies, type CategoryFrequencies } from './samples';
import { decide, type DriftMethod } from './types';

const DEFAULT_DISTANCE_THRESHOLD = 0.1;

/** p·ln(p/m), with 0·ln 0 = 0 (scipy.special.rel_entr for p ≤ m's support). */
function relativeEntropyTerm(p: number, m: number): number {
  return p === 0 ? 0 : p * Math.log(p / m);
}

export function jensenShannonDistance(reference: readonly (number | string)[], current: readonly (number | string)[]): number {
  return jensenShannonOfFrequencies(categoryFrequencies(reference, current, 'jensenshannon'));
}

export function jensenShannonOfFrequencies(f: CategoryFrequencies): number {
  let left = 0;
  let right = 0;
  for (let k = 0; k < f.categories.length; k++) {
    const p = f.reference[k] / f.referenceTotal;
    const q = f.current[k] / f.currentTotal;
    const m = (p + q) / 2;
    left += relativeEntropyTerm(p, m);
    right += relativeEntropyTerm(q, m);
  }
  // Rounding can leave the divergence a hair below 0 for identical samples.
  return Math.sqrt(Math.max(0, (left + right) / Math.LN2 / 2));
}

export const jensenshannon: DriftMethod = {
  name: 'jensenshannon',
  appliesTo: ['categorical', 'numerical'],
  yields: 'distance',
  defaultThreshold: DEFAULT_DISTANCE_THRESHOLD,
  compare(reference, current, threshold = DEFAULT_DISTANCE_THRESHOLD) {
    const statistic = jensenShannonDistance(reference, current);
    return { statistic, drifted: decide('distance', statistic, threshold), threshold };
  },
  compareProfiles(reference, current, threshold = DEFAULT_DISTANCE_THRESHOLD) {
    const f = profileCategoryFrequencies(reference, current, 'jensenshannon');
    const statistic = jensenShannonOfFrequencies(f);
    return { statistic, drifted: decide('distance', statistic, threshold), threshold, basis: f.pooled ? 'pooled_categories' : 'exact' };
  },
};
