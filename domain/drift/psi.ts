// Population Stability Index: Σ (c − r)·ln(c / r) over bins, r and c the reference and current shares.
// Numbers are binned on the reference's quantiles, so each bin starts with about the same share of the
// reference and a shift shows up wherever it happens; strings are binned by category.
import { categoryFrequencies, quantileOfSorted, sortedFinite } from './samples';
import { decide, DriftInputError, type DriftMethod } from './types';

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

export function populationStabilityIndex(
  reference: readonly (number | string)[],
  current: readonly (number | string)[],
  binning: PsiBinning = DEFAULT_PSI_BINNING,
): number {
  if (!Number.isInteger(binning.bins) || binning.bins < 2) throw new DriftInputError(`psi: bins must be an integer ≥ 2, got ${binning.bins}`);
  if (!(binning.epsilon > 0 && binning.epsilon < 1)) throw new DriftInputError(`psi: epsilon must be in (0, 1), got ${binning.epsilon}`);
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
  };
}

export const psi = psiWith();
