// Two-sample Kolmogorov–Smirnov test, two-sided, with scipy.stats.ks_2samp(method='auto')'s p-value:
// exact while both samples have at most 10,000 values, then kstwo.sf(D, round(n1·n2/(n1+n2))).
// Ties are allowed; like scipy, the p-value still assumes a continuous distribution.
import {
  EXACT_MAX_SAMPLE_SIZE,
  greatestCommonDivisor,
  oneSampleSurvival,
  roundHalfToEven,
  twoSampleExactSurvival,
} from './kolmogorov';
import type { FeatureProfile } from './profile';
import { largestCdfGap, numericalProfiles, sortedFinite, weightedSampleOf } from './samples';
import { decide, errorBound, type DriftMethod, type ProfileComparison } from './types';

const DEFAULT_P_VALUE_THRESHOLD = 0.05;

export interface KolmogorovSmirnovResult {
  /** D = sup |F_reference − F_current|. */
  statistic: number;
  pValue: number;
  /** Which distribution produced the p-value, as scipy would have chosen. */
  distribution: 'exact' | 'asymptotic';
}

export function kolmogorovSmirnov(reference: ArrayLike<number>, current: ArrayLike<number>): KolmogorovSmirnovResult {
  const a = sortedFinite(reference, 'ks', 'reference');
  const b = sortedFinite(current, 'ks', 'current');
  const n1 = a.length;
  const n2 = b.length;
  const g = greatestCommonDivisor(n1, n2);
  // D·lcm(n1, n2) is the integer |i·(n2/g) − j·(n1/g)|; tracking it exactly avoids rounding the statistic.
  const scale1 = n2 / g;
  const scale2 = n1 / g;

  let i = 0;
  let j = 0;
  let largestGap = 0;
  let largestScaledGap = 0;
  while (i < n1 || j < n2) {
    const next = j >= n2 || (i < n1 && a[i] <= b[j]) ? a[i] : b[j];
    while (i < n1 && a[i] <= next) i++;
    while (j < n2 && b[j] <= next) j++;
    // The float difference is scipy's statistic in its asymptotic branch; keep it bit-for-bit.
    largestGap = Math.max(largestGap, Math.abs(i / n1 - j / n2));
    largestScaledGap = Math.max(largestScaledGap, Math.abs(i * scale1 - j * scale2));
  }

  if (Math.max(n1, n2) <= EXACT_MAX_SAMPLE_SIZE) {
    const lcm = scale2 * n2;
    return {
      statistic: largestScaledGap / lcm,
      pValue: twoSampleExactSurvival(n1, n2, largestScaledGap),
      distribution: 'exact',
    };
  }
  const effectiveSize = roundHalfToEven((n1 * n2) / (n1 + n2));
  return {
    statistic: largestGap,
    pValue: oneSampleSurvival(effectiveSize, largestGap),
    distribution: 'asymptotic',
  };
}

/**
 * scipy's p-value for a statistic D between samples of n1 and n2 values: exact while both are at most
 * 10,000 (D is rounded onto its lattice of multiples of 1/lcm(n1, n2)), asymptotic beyond.
 */
export function kolmogorovSmirnovPValue(statistic: number, n1: number, n2: number): number {
  if (Math.max(n1, n2) <= EXACT_MAX_SAMPLE_SIZE) {
    const lcm = (n1 / greatestCommonDivisor(n1, n2)) * n2;
    return twoSampleExactSurvival(n1, n2, Math.round(statistic * lcm));
  }
  return oneSampleSurvival(roundHalfToEven((n1 * n2) / (n1 + n2)), statistic);
}

/**
 * KS from two profiles. Both kept their values: kolmogorovSmirnov itself. Otherwise D is the largest gap
 * between the two CDFs read from exact values, distinct counts or KLL sketches, and the p-value is
 * scipy's for D at the true sample sizes (asymptotic past 10,000, as scipy). A sketch's CDF is within its
 * rank error ε of the true one everywhere, so the true D lies within D ± (ε_reference + ε_current); the
 * verdict takes the largest p-value in that range.
 */
export function kolmogorovSmirnovOfProfiles(reference: FeatureProfile, current: FeatureProfile, threshold = DEFAULT_P_VALUE_THRESHOLD): ProfileComparison {
  const [ref, cur] = numericalProfiles(reference, current, 'ks');
  const refValues = ref.values();
  const curValues = cur.values();
  if (refValues && curValues) {
    const { statistic, pValue } = kolmogorovSmirnov(refValues, curValues);
    return { statistic, pValue, drifted: decide('p_value', pValue, threshold), threshold, basis: 'exact' };
  }
  const a = weightedSampleOf(ref, 'ks', 'reference');
  const b = weightedSampleOf(cur, 'ks', 'current');
  const statistic = largestCdfGap(a, b);
  const pValueOf = (d: number) => kolmogorovSmirnovPValue(d, ref.count, cur.count);
  const pValue = pValueOf(statistic);
  const result: ProfileComparison = { statistic, pValue, drifted: decide('p_value', pValue, threshold), threshold, basis: 'exact' };
  const error = a.rankError + b.rankError;
  if (error > 0) {
    result.basis = 'sketch';
    const range: [number, number] = [Math.max(0, statistic - error), Math.min(1, statistic + error)];
    result.errorBound = errorBound('p_value', range, threshold, { reference: a.rankError, current: b.rankError }, pValueOf);
    // Sketch noise only adds to the largest gap, and at large n a gap of a few ε is already significant:
    // drift is declared only if the least significant D the sketches allow is, which keeps the
    // false-alarm rate at the threshold (plus the sketches' 1%).
    const largestP = result.errorBound.pValue![1];
    result.drifted = decide('p_value', largestP, threshold);
    if (result.drifted !== decide('p_value', pValue, threshold)) {
      result.note = `not drift: D = ${statistic.toPrecision(4)} is significant, but the sketches allow D = ${range[0].toPrecision(4)} (p = ${largestP.toPrecision(4)})`;
    }
  }
  return result;
}

export const ks: DriftMethod<number> = {
  name: 'ks',
  appliesTo: ['numerical'],
  yields: 'p_value',
  defaultThreshold: DEFAULT_P_VALUE_THRESHOLD,
  compare(reference, current, threshold = DEFAULT_P_VALUE_THRESHOLD) {
    const { statistic, pValue } = kolmogorovSmirnov(reference, current);
    return { statistic, pValue, drifted: decide('p_value', pValue, threshold), threshold };
  },
  compareProfiles: kolmogorovSmirnovOfProfiles,
};
