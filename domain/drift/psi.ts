// Population Stability Index: Σ (c − r)·ln(c / r) over bins, r and c the reference and current shares.
// Numbers are binned on the reference's quantiles, so each bin starts with about the same share of the
// reference and a shift shows up wherever it happens; strings are binned by category.
import type { FeatureProfile } from './profile';
import {
  categoryFrequencies,
  profileCategoryFrequencies,
  quantileOfSorted,
  sortedFinite,
  weightedBinCounts,
  weightedQuantile,
  weightedSampleOf,
  type WeightedSample,
} from './samples';
import { decide, DriftInputError, errorBound, type DriftMethod, type ProfileComparison } from './types';

export interface PsiBinning {
  /** Number of reference-quantile bins for numerical samples (ties can merge bins). */
  bins: number;
  /** Share substituted for an empty bin, which would otherwise make ln(c / r) infinite. */
  epsilon: number;
}

export const DEFAULT_PSI_BINNING: PsiBinning = { bins: 10, epsilon: 1e-4 };

/** 0.25 is the usual "significant shift" line, and the pipeline config's default. */
const DEFAULT_PSI_THRESHOLD = 0.25;

/**
 * Interior edges at the reference's k/bins quantiles (linear interpolation), duplicates dropped.
 * Bins are right-closed, (e[k−1], e[k]], with open ends, so every value lands in exactly one bin.
 */
export function referenceQuantileEdges(reference: Float64Array, bins: number): number[] {
  const edges: number[] = [];
  for (let k = 1; k < bins; k++) {
    const edge = quantileOfSorted(reference, k / bins);
    if (edges.length === 0 || edge > edges[edges.length - 1]) edges.push(edge);
  }
  return edges;
}

function binCounts(sorted: Float64Array, edges: number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  let bin = 0;
  for (const v of sorted) {
    while (bin < edges.length && v > edges[bin]) bin++;
    counts[bin]++;
  }
  return counts;
}

function psiOfCounts(reference: number[], current: number[], referenceTotal: number, currentTotal: number, epsilon: number): number {
  let psi = 0;
  for (let k = 0; k < reference.length; k++) {
    const r = reference[k] === 0 ? epsilon : reference[k] / referenceTotal;
    const c = current[k] === 0 ? epsilon : current[k] / currentTotal;
    psi += (c - r) * Math.log(c / r);
  }
  return psi;
}

function checkBinning(binning: PsiBinning): void {
  if (!Number.isInteger(binning.bins) || binning.bins < 2) throw new DriftInputError(`psi: bins must be an integer ≥ 2, got ${binning.bins}`);
  if (!(binning.epsilon > 0 && binning.epsilon < 1)) throw new DriftInputError(`psi: epsilon must be in (0, 1), got ${binning.epsilon}`);
}

export function populationStabilityIndex(
  reference: readonly (number | string)[],
  current: readonly (number | string)[],
  binning: PsiBinning = DEFAULT_PSI_BINNING,
): number {
  checkBinning(binning);
  const numeric = reference.every((v) => typeof v === 'number') && current.every((v) => typeof v === 'number');
  if (numeric) {
    const a = sortedFinite(reference as number[], 'psi', 'reference');
    const b = sortedFinite(current as number[], 'psi', 'current');
    const edges = referenceQuantileEdges(a, binning.bins);
    return psiOfCounts(binCounts(a, edges), binCounts(b, edges), a.length, b.length, binning.epsilon);
  }
  const f = categoryFrequencies(reference, current, 'psi');
  return psiOfCounts(f.reference, f.current, f.referenceTotal, f.currentTotal, binning.epsilon);
}

/** The edges referenceQuantileEdges gives, from a weighted sample (numpy's interpolation over its order statistics). */
function weightedQuantileEdges(reference: WeightedSample, bins: number): number[] {
  const edges: number[] = [];
  for (let k = 1; k < bins; k++) {
    const edge = weightedQuantile(reference, k / bins);
    if (edges.length === 0 || edge > edges[edges.length - 1]!) edges.push(edge);
  }
  return edges;
}

/** An empty bin counts as epsilon: the shares a bin can take when its true share lies in [low, high]. */
function effectiveShares(low: number, high: number, total: number, epsilon: number): [number, number] {
  if (low > 0) return [low, high];
  return [Math.min(epsilon, Math.max(low, 1 / total)), Math.max(epsilon, high)];
}

const psiTerm = (r: number, c: number) => (c - r) * Math.log(c / r);

/**
 * Bounds on PSI when each bin's share is known within ± error (2ε: a bin's share is a difference of two
 * CDF values). A term (c − r)·ln(c/r) is jointly convex, 0 on the diagonal and monotone away from it,
 * so over a box its maximum sits at a corner and its minimum is 0 or the corner nearest the diagonal.
 */
function psiRange(ref: number[], cur: number[], refTotal: number, curTotal: number, refError: number, curError: number, epsilon: number): [number, number] {
  let low = 0;
  let high = 0;
  for (let k = 0; k < ref.length; k++) {
    const [r0, r1] = effectiveShares(ref[k]! / refTotal - 2 * refError, Math.min(1, ref[k]! / refTotal + 2 * refError), refTotal, epsilon);
    const [c0, c1] = effectiveShares(cur[k]! / curTotal - 2 * curError, Math.min(1, cur[k]! / curTotal + 2 * curError), curTotal, epsilon);
    high += Math.max(psiTerm(r0, c1), psiTerm(r1, c0));
    if (c0 > r1) low += psiTerm(r1, c0);
    else if (r0 > c1) low += psiTerm(r0, c1);
  }
  return [low, high];
}

/**
 * PSI from two profiles. Numerical: populationStabilityIndex itself when both kept their values;
 * otherwise bins on the reference's quantiles read from its values, distinct counts or KLL sketch, with
 * each side's bin counts from the same. The bound covers the bin counts given those edges; with a
 * sketched reference the edges themselves are the sketch's quantiles. Categorical: exact counts.
 */
function psiOfProfiles(reference: FeatureProfile, current: FeatureProfile, binning: PsiBinning, threshold: number): ProfileComparison {
  checkBinning(binning);
  if (reference.kind === 'numerical' && current.kind === 'numerical') {
    const refValues = reference.values();
    const curValues = current.values();
    if (refValues && curValues) {
      const statistic = populationStabilityIndex(Array.from(refValues), Array.from(curValues), binning);
      return { statistic, drifted: decide('distance', statistic, threshold), threshold, basis: 'exact' };
    }
    const a = weightedSampleOf(reference, 'psi', 'reference');
    const b = weightedSampleOf(current, 'psi', 'current');
    const edges = weightedQuantileEdges(a, binning.bins);
    const refCounts = weightedBinCounts(a, edges);
    const curCounts = weightedBinCounts(b, edges);
    const statistic = psiOfCounts(refCounts, curCounts, a.total, b.total, binning.epsilon);
    const result: ProfileComparison = { statistic, drifted: decide('distance', statistic, threshold), threshold, basis: 'exact' };
    if (a.rankError + b.rankError > 0) {
      result.basis = 'sketch';
      const range = psiRange(refCounts, curCounts, a.total, b.total, a.rankError, b.rankError, binning.epsilon);
      result.errorBound = errorBound('distance', [Math.min(range[0], statistic), Math.max(range[1], statistic)], threshold, { reference: a.rankError, current: b.rankError });
      if (reference.values() === null) result.note = `bins on the reference's KLL quantiles: ${edges.map((e) => e.toPrecision(6)).join(', ')}`;
    }
    return result;
  }
  if (reference.kind !== current.kind) throw new DriftInputError('psi: the reference and current profiles are of different kinds');
  const f = profileCategoryFrequencies(reference, current, 'psi');
  const statistic = psiOfCounts(f.reference, f.current, f.referenceTotal, f.currentTotal, binning.epsilon);
  return { statistic, drifted: decide('distance', statistic, threshold), threshold, basis: f.pooled ? 'pooled_categories' : 'exact' };
}

/** A PSI method with its own binning; `psi` is the default one the registry uses. */
export function psiWith(binning: Partial<PsiBinning> = {}): DriftMethod {
  const resolved = { ...DEFAULT_PSI_BINNING, ...binning };
  return {
    name: 'psi',
    appliesTo: ['numerical', 'categorical'],
    yields: 'distance',
    defaultThreshold: DEFAULT_PSI_THRESHOLD,
    compare(reference, current, threshold = DEFAULT_PSI_THRESHOLD) {
      const statistic = populationStabilityIndex(reference, current, resolved);
      return { statistic, drifted: decide('distance', statistic, threshold), threshold };
    },
    compareProfiles(reference, current, threshold = DEFAULT_PSI_THRESHOLD) {
      return psiOfProfiles(reference, current, resolved, threshold);
    },
  };
}

export const psi = psiWith();
