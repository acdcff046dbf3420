// The contract every drift method fulfils; the registry in ./index.ts picks one per feature.

export type FeatureKind = 'numerical' | 'categorical';

export interface DriftComparison {
  statistic: number;
  /** Present for methods that yield a p-value. */
  pValue?: number;
  drifted: boolean;
  /** The threshold actually applied (the caller's, or the method's default). */
  threshold: number;
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
}

/** Thrown for inputs a method cannot compare (empty sample, non-finite value); a caller bug, not drift. */
export class DriftInputError extends Error {
  override readonly name = 'DriftInputError';
}

export function decide(yields: DriftMethod['yields'], value: number, threshold: number): boolean {
  return yields === 'p_value' ? value < threshold : value >= threshold;
}
