// Paired significance tests for candidate against champion on the same holdout rows: McNemar's test on
// the rows exactly one of them gets right, and a paired bootstrap of the primary metric's difference.
// Pure: no I/O, no Node built-ins; the evaluation container computes, the gate judges.
import { chiSquareSurvival } from './drift/gamma';
import { seededRandom } from './seeded-random';

/**
 * The discordant pairs of a paired classification comparison: McNemar's b and c. Rows both models get
 * right, or both get wrong, say nothing about which is better.
 */
export interface DiscordantPairs {
  /** b: rows the candidate gets right and the champion wrong. */
  candidateOnlyCorrect: number;
  /** c: rows the champion gets right and the candidate wrong. */
  championOnlyCorrect: number;
}

/** Counts the discordant pairs of two classifiers' predicted labels on the same rows. */
export function discordantPairs(actual: ArrayLike<number>, candidatePredicted: ArrayLike<number>, championPredicted: ArrayLike<number>): DiscordantPairs {
  if (candidatePredicted.length !== actual.length || championPredicted.length !== actual.length) {
    throw new RangeError(`discordant pairs: ${actual.length} labels, ${candidatePredicted.length} candidate and ${championPredicted.length} champion predictions`);
  }
  let candidateOnlyCorrect = 0;
  let championOnlyCorrect = 0;
  for (let i = 0; i < actual.length; i++) {
    const candidateRight = candidatePredicted[i] === actual[i];
    if (candidateRight !== (championPredicted[i] === actual[i])) {
      if (candidateRight) candidateOnlyCorrect++;
      else championOnlyCorrect++;
    }
  }
  return { candidateOnlyCorrect, championOnlyCorrect };
}

export interface McNemarResult {
  /** true: the exact binomial test; false: chi-square with continuity correction. */
  exact: boolean;
  /** min(b, c) for the exact test; (|b − c| − 1)² / (b + c) for the chi-square one (statsmodels' definitions). */
  statistic: number;
  /** Two-sided. */
  pValue: number;
}

function checkCount(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`McNemar's test: ${what} is ${value}, not a count`);
}

/**
 * P(X ≤ k) for X ~ Binomial(n, ½). Terms are summed downward from k, where they are largest (k ≤ n/2),
 * relative to the k-th term, whose logarithm is accumulated as Σ ln((n − i + 1) / i).
 */
export function binomialHalfCdf(k: number, n: number): number {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`binomial CDF: n is ${n}, not a count`);
  if (k < 0) return 0;
  if (k >= n) return 1;
  if (k > n / 2) return 1 - binomialHalfCdf(n - k - 1, n);
  let logTerm = -n * Math.LN2;
  for (let i = 1; i <= k; i++) logTerm += Math.log((n - i + 1) / i);
  let sum = 1;
  let ratio = 1;
  for (let i = k; i >= 1; i--) {
    // term(i − 1) / term(i) = i / (n − i + 1)
    ratio *= i / (n - i + 1);
    sum += ratio;
    if (ratio < sum * 1e-17) break;
  }
  return Math.min(1, Math.exp(logTerm) * sum);
}

/**
 * McNemar's test on the discordant pairs, as statsmodels' `mcnemar(table, exact, correction=True)`:
 * exact is the two-sided binomial test of b against b + c at ½; otherwise the chi-square statistic
 * with continuity correction on one degree of freedom. With no discordant pair there is no evidence
 * either way: p = 1 (statsmodels divides by zero there).
 */
export function mcnemar(pairs: DiscordantPairs, options: { exact: boolean }): McNemarResult {
  const { candidateOnlyCorrect: b, championOnlyCorrect: c } = pairs;
  checkCount(b, 'candidateOnlyCorrect (b)');
  checkCount(c, 'championOnlyCorrect (c)');
  if (options.exact) {
    const statistic = Math.min(b, c);
    return { exact: true, statistic, pValue: Math.min(1, 2 * binomialHalfCdf(statistic, b + c)) };
  }
  if (b + c === 0) return { exact: false, statistic: 0, pValue: 1 };
  const statistic = (Math.abs(b - c) - 1) ** 2 / (b + c);
  return { exact: false, statistic, pValue: chiSquareSurvival(statistic, 1) };
}

/**
 * The q-quantile (0 ≤ q ≤ 1) of values sorted ascending, interpolating linearly between order
 * statistics: numpy's default `percentile` method, which scipy's percentile bootstrap uses.
 */
export function quantileOfSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) throw new RangeError('quantile of no values');
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile: q is ${q}, outside [0, 1]`);
  const h = (sorted.length - 1) * q;
  const below = Math.floor(h);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (h - below) * (sorted[above] - sorted[below]);
}

export interface BootstrapInterval {
  /** The statistic on the holdout as it is (every row once). */
  observed: number;
  /** The percentile interval's bounds at `confidence`. */
  lower: number;
  upper: number;
  confidence: number;
  resamples: number;
  /** Resamples on which the statistic was defined (AUC needs both classes); the interval uses these. */
  usableResamples: number;
  seed: number;
}

export interface PairedBootstrapOptions {
  rows: number;
  resamples: number;
  seed: number;
  /** e.g. 0.95 for a 95% interval. */
  confidence: number;
  /**
   * The paired statistic on one resample, given how many times each holdout row was drawn; null where it
   * is undefined. Both models must be scored from the same weights: that is what makes it paired.
   */
  statistic: (timesDrawn: Uint32Array) => number | null;
}

/**
 * A percentile bootstrap interval: `resamples` times, draw `rows` rows with replacement (a seeded
 * generator, so the same inputs always give the same interval) and compute the statistic on them.
 * Null when the statistic is undefined on the holdout itself or on every resample.
 */
export function pairedBootstrap(options: PairedBootstrapOptions): BootstrapInterval | null {
  const { rows, resamples, seed, confidence, statistic } = options;
  if (!Number.isInteger(rows) || rows < 1) throw new RangeError(`paired bootstrap: rows is ${rows}; it needs at least one row`);
  if (!Number.isInteger(resamples) || resamples < 1) throw new RangeError(`paired bootstrap: resamples is ${resamples}; it must be a whole number ≥ 1`);
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`paired bootstrap: confidence is ${confidence}; it must lie strictly between 0 and 1`);
  const timesDrawn = new Uint32Array(rows).fill(1);
  const observed = statistic(timesDrawn);
  if (observed === null || !Number.isFinite(observed)) return null;
  const random = seededRandom(seed);
  const values: number[] = [];
  for (let r = 0; r < resamples; r++) {
    timesDrawn.fill(0);
    for (let i = 0; i < rows; i++) timesDrawn[Math.floor(random() * rows)]++;
    const value = statistic(timesDrawn);
    if (value !== null && Number.isFinite(value)) values.push(value);
  }
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const tail = (1 - confidence) / 2;
  return {
    observed,
    lower: quantileOfSorted(sorted, tail),
    upper: quantileOfSorted(sorted, 1 - tail),
    confidence,
    resamples,
    usableResamples: values.length,
    seed,
  };
}
