// The contract every drift method fulfils; the registry in ./index.ts picks one per feature.
import type { FeatureProfile } from './profile';

export type FeatureKind = 'numerical' | 'categorical';

export interface DriftComparison {
  statistic: number;
  /** Present for methods that yield a p-value. */
  pValue?: number;
  drifted: boolean;
  /** The threshold actually applied (the caller's, or the method's default). */
  threshold: number;
}

/**
 * How far a statistic computed from sketches can be from the one every value would give. The ranges
 * hold with the sketches' confidence (KLL's rank error is a 99% bound).
 */
export interface ErrorBound {
  statistic: [number, number];
  /** For p-value methods: the p-values at the ends of the statistic's range. */
  pValue?: [number, number];
  /** The verdict is the same anywhere in the range. */
  decisive: boolean;
  /** Each side's largest CDF error, as a share of its count (0 for a side compared exactly). */
  rankError: { reference: number; current: number };
  confidence: number;
}

/**
 * `exact`: from every value, as the array version computes it. `sketch`: from at least one KLL sketch,
 * with an error bound. `pooled_categories`: exact counts, but categories past the cap pooled into one.
 */
export type ComparisonBasis = 'exact' | 'sketch' | 'pooled_categories';

export interface ProfileComparison extends DriftComparison {
  basis: ComparisonBasis;
  errorBound?: ErrorBound;
  note?: string;
}

export interface DriftMethod<T extends number | string = number | string> {
  /** 'ks' | 'psi' | 'wasserstein' | 'chisquare' | 'jensenshannon' | 'linf' | 'linf_robust' */
  name: string;
  appliesTo: FeatureKind[];
  /** p_value: drift when p < threshold; distance: drift when statistic ≥ threshold. */
  yields: 'p_value' | 'distance';
  defaultThreshold: number;
  /** Both samples must be non-empty and, for numerical methods, finite (the registry filters). */
  compare(reference: T[], current: T[], threshold?: number): DriftComparison;
  /**
   * The same comparison from two profiles: equal to `compare` on the values wherever both profiles kept
   * them, from sketches (with the bound) otherwise. Throws DriftInputError when the profiles cannot
   * give this method's statistic (e.g. categories of a continuous feature past the distinct-value cap).
   */
  compareProfiles(reference: FeatureProfile, current: FeatureProfile, threshold?: number): ProfileComparison;
}

/** Thrown for inputs a method cannot compare (empty sample, non-finite value); a caller bug, not drift. */
export class DriftInputError extends Error {
  override readonly name = 'DriftInputError';
}

export function decide(yields: DriftMethod['yields'], value: number, threshold: number): boolean {
  return yields === 'p_value' ? value < threshold : value >= threshold;
}

/** The error bound for a statistic range [low, high]; `pValueOf` maps a statistic to its p-value (decreasing). */
export function errorBound(
  yields: DriftMethod['yields'],
  range: [number, number],
  threshold: number,
  rankError: ErrorBound['rankError'],
  pValueOf?: (statistic: number) => number,
): ErrorBound {
  const bound: ErrorBound = { statistic: range, decisive: false, rankError, confidence: SKETCH_CONFIDENCE };
  if (yields === 'p_value' && pValueOf) {
    bound.pValue = [pValueOf(range[1]), pValueOf(range[0])];
    bound.decisive = decide('p_value', bound.pValue[0], threshold) === decide('p_value', bound.pValue[1], threshold);
  } else {
    bound.decisive = decide('distance', range[0], threshold) === decide('distance', range[1], threshold);
  }
  return bound;
}

/** KLL's normalised rank error (domain/drift/kll.ts) is stated at 99% confidence. */
export const SKETCH_CONFIDENCE = 0.99;
