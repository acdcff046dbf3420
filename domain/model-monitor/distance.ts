// The distances behind Model Monitor's baseline_drift_check, computed from what statistics.json holds:
// KLL sketches for numerical features, category counts for String features. The container is built on
// Deequ; these follow Deequ's `Distance` (numericalDistance, categoricalDistance), with the differences
// listed in docs/model-monitor.md.
import { chiSquareSurvival } from '../drift/gamma';
import type { KllSketch } from '../drift/kll';

/** Deequ's default c(alpha) = 1.8, for alpha ≈ 0.003 (Knuth, TAOCP vol. 2, 3.3.1 eq. 15). */
export const ROBUST_ALLOWANCE = 1.8;

/** max(0, d − 1.8·sqrt((n+m)/(n·m))): the gap sampling noise alone may open between samples of n and m. */
export function robustDistance(distance: number, n: number, m: number): number {
  return Math.max(0, distance - ROBUST_ALLOWANCE * Math.sqrt((n + m) / (n * m)));
}

/**
 * The largest gap between the two sketches' empirical CDFs, sup_x |F_ref(x) − F_cur(x)|: a two-sample
 * KS statistic on the sketches' weighted items. Exact for sketches nothing was compacted in; otherwise
 * within the sum of the two sketches' normalized rank errors.
 */
export function cdfGap(reference: KllSketch, current: KllSketch): number {
  const a = reference.weightedValues();
  const b = current.weightedValues();
  const n = reference.count;
  const m = current.count;
  if (n === 0 || m === 0) return NaN;
  let i = 0;
  let j = 0;
  let below = 0;
  let belowCurrent = 0;
  let gap = 0;
  while (i < a.length || j < b.length) {
    const x = Math.min(i < a.length ? a[i]!.value : Infinity, j < b.length ? b[j]!.value : Infinity);
    while (i < a.length && a[i]!.value === x) below += a[i++]!.weight;
    while (j < b.length && b[j]!.value === x) belowCurrent += b[j++]!.weight;
    gap = Math.max(gap, Math.abs(below / n - belowCurrent / m));
  }
  return gap;
}

export type CategoryCounts = ReadonlyMap<string, number>;

function total(counts: CategoryCounts): number {
  let sum = 0;
  for (const c of counts.values()) sum += c;
  return sum;
}

/** max_c |ref(c)/n − cur(c)/m| over the union of categories (NaN when either side is empty). */
export function categoricalLInfinity(reference: CategoryCounts, current: CategoryCounts): { distance: number; n: number; m: number } {
  const n = total(reference);
  const m = total(current);
  if (n === 0 || m === 0) return { distance: NaN, n, m };
  let distance = 0;
  for (const category of new Set([...reference.keys(), ...current.keys()])) {
    distance = Math.max(distance, Math.abs((reference.get(category) ?? 0) / n - (current.get(category) ?? 0) / m));
  }
  return { distance, n, m };
}

export interface ChiSquaredResult {
  statistic: number;
  /** NaN when fewer than two categories are left after regrouping (the test cannot run). */
  pValue: number;
  degreesOfFreedom: number;
  /** Categories left after small ones were merged, as Deequ regroups them. */
  categories: string[];
}

// Regrouping thresholds (Deequ's): a 2-category table needs every expected count ≥ 10 (Cochran 1952);
// larger ones may have at most 20% of expected counts below 5 (Yates, Moore & McCabe 1999).
const COCHRAN_MIN_EXPECTED = 10;
const YATES_MIN_EXPECTED = 5;
const YATES_SHARE_BELOW = 0.2;

/**
 * Chi-square goodness of fit of the current counts against the baseline's proportions, as Deequ runs it:
 * baseline counts are scaled to the current total over the baseline's categories (categories the
 * baseline never saw are left out), the smallest expected categories are merged into the next smallest
 * until the table meets Cochran's/Yates' rule, then p = chi2.sf(Σ (obs − exp)²/exp, k − 1).
 * Ties for "smallest" are broken by category name, so the result is deterministic.
 */
export function categoricalChiSquared(baseline: CategoryCounts, current: CategoryCounts): ChiSquaredResult {
  const baselineTotal = total(baseline);
  let currentTotal = 0;
  for (const [category, c] of current) if (baseline.has(category)) currentTotal += c;
  const expected = new Map<string, number>();
  const observed = new Map<string, number>();
  for (const [category, c] of baseline) {
    if (c <= 0) continue;
    expected.set(category, baselineTotal === 0 ? 0 : (c / baselineTotal) * currentTotal);
    observed.set(category, current.get(category) ?? 0);
  }
  const smallest = (): string =>
    [...expected.entries()].reduce((best, entry) => (entry[1] < best[1] || (entry[1] === best[1] && entry[0] < best[0]) ? entry : best))[0];
  while (expected.size >= 2) {
    const large = expected.size > 2;
    const minimum = large ? YATES_MIN_EXPECTED : COCHRAN_MIN_EXPECTED;
    const allowedBelow = large ? Math.floor(YATES_SHARE_BELOW * expected.size) : 0;
    let below = 0;
    for (const e of expected.values()) if (e < minimum) below++;
    if (below <= allowedBelow) break;
    const first = smallest();
    const firstExpected = expected.get(first)!;
    const firstObserved = observed.get(first)!;
    expected.delete(first);
    observed.delete(first);
    const second = smallest();
    expected.set(second, expected.get(second)! + firstExpected);
    observed.set(second, observed.get(second)! + firstObserved);
  }
  const categories = [...expected.keys()];
  const degreesOfFreedom = categories.length - 1;
  if (degreesOfFreedom < 1 || currentTotal === 0) return { statistic: NaN, pValue: NaN, degreesOfFreedom, categories };
  let statistic = 0;
  for (const category of categories) {
    const e = expected.get(category)!;
    const d = observed.get(category)! - e;
    statistic += (d * d) / e;
  }
  return { statistic, pValue: chiSquareSurvival(statistic, degreesOfFreedom), degreesOfFreedom, categories };
}
