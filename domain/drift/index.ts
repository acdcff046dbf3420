// Drift registry and dataset report. Adding a method means adding its file and one line to
// `registeredMethods`; choosing one is the table in `defaultMethodTable`.
import { chisquare } from './chisquare';
import { jensenshannon } from './jensenshannon';
import { ks } from './ks';
import { linf, linfRobust } from './linf';
import { psi } from './psi';
import { DriftInputError, type DriftMethod, type FeatureKind } from './types';
import { wasserstein } from './wasserstein';

export { chiSquareGoodnessOfFit, chisquare } from './chisquare';
export { jensenShannonDistance, jensenshannon } from './jensenshannon';
export { kolmogorovSmirnov, ks, type KolmogorovSmirnovResult } from './ks';
export { lInfinityDistance, linf, linfRobust } from './linf';
export { DEFAULT_PSI_BINNING, populationStabilityIndex, psi, psiWith, type PsiBinning } from './psi';
export { DriftInputError, type DriftComparison, type DriftMethod, type FeatureKind } from './types';
export { normalisedWasserstein, wasserstein } from './wasserstein';

const registeredMethods: DriftMethod[] = [
  ks,
  psi,
  wasserstein,
  chisquare,
  jensenshannon,
  linf,
  linfRobust,
];

export const driftMethods: Readonly<Record<string, DriftMethod>> = Object.freeze(
  Object.fromEntries(registeredMethods.map((m) => [m.name, m])),
);

export function driftMethod(name: string, kind?: FeatureKind): DriftMethod {
  const method = driftMethods[name];
  if (!method) throw new DriftInputError(`unknown drift method "${name}" (known: ${Object.keys(driftMethods).join(', ')})`);
  if (kind && !method.appliesTo.includes(kind)) throw new DriftInputError(`drift method "${name}" does not apply to ${kind} features`);
  return method;
}

/**
 * Evidently's defaults, by reference size and the number of distinct values in reference ∪ current:
 *
 * | reference rows | kind        | distinct values | method        | drift when |
 * |----------------|-------------|-----------------|---------------|------------|
 * | ≤ 1000         | numerical   | > 5             | ks            | p < 0.05   |
 * | ≤ 1000         | numerical   | ≤ 5             | chisquare     | p < 0.05   |
 * | ≤ 1000         | categorical | any             | chisquare     | p < 0.05   |
 * | > 1000         | numerical   | > 5             | wasserstein   | d ≥ 0.1    |
 * | > 1000         | numerical   | ≤ 5             | jensenshannon | d ≥ 0.1    |
 * | > 1000         | categorical | any             | jensenshannon | d ≥ 0.1    |
 *
 * Evidently uses a two-proportion z-test for features with ≤ 2 values on small references; there is no
 * z-test here, so those get chi-square as well. Large samples get distances because any p-value test
 * flags trivial shifts once n is in the thousands.
 */
const defaultMethodTable: { smallReference: boolean; kind: FeatureKind; fewValues: boolean | 'any'; method: DriftMethod }[] = [
  { smallReference: true, kind: 'numerical', fewValues: false, method: ks },
  { smallReference: true, kind: 'numerical', fewValues: true, method: chisquare },
  { smallReference: true, kind: 'categorical', fewValues: 'any', method: chisquare },
  { smallReference: false, kind: 'numerical', fewValues: false, method: wasserstein },
  { smallReference: false, kind: 'numerical', fewValues: true, method: jensenshannon },
  { smallReference: false, kind: 'categorical', fewValues: 'any', method: jensenshannon },
];

const SMALL_REFERENCE_MAX_ROWS = 1000;
const FEW_VALUES_MAX = 5;

export function chooseMethod(kind: FeatureKind, referenceSize: number, uniqueValues: number): DriftMethod {
  const smallReference = referenceSize <= SMALL_REFERENCE_MAX_ROWS;
  const fewValues = uniqueValues <= FEW_VALUES_MAX;
  const row = defaultMethodTable.find((r) => r.smallReference === smallReference && r.kind === kind && (r.fewValues === 'any' || r.fewValues === fewValues));
  if (!row) throw new DriftInputError(`no default drift method for a ${kind} feature`);
  return row.method;
}

export interface DriftOptions {
  pValueThreshold: number;
  psiThreshold: number;
  driftShare: number;
  minSamples: number;
}

export interface DatasetFeature {
  name: string;
  type: FeatureKind;
  /** Overrides the default table, e.g. 'psi' or 'linf_robust'. */
  method?: string;
  /** Overrides the threshold the options would give this feature's method. */
  threshold?: number;
}

export interface FeatureDrift {
  name: string;
  type: FeatureKind;
  method: string;
  /** NaN (null once serialised) when the feature was not tested; +Infinity from chi-square on an unseen category. */
  statistic: number;
  pValue?: number;
  threshold: number;
  drifted: boolean;
  /** Usable (non-missing) values compared. */
  referenceCount: number;
  currentCount: number;
  /** Current values excluded as missing: non-finite or non-numeric numbers, empty strings. */
  missingCount: number;
  referenceMissingCount: number;
  /** Fewer than minSamples usable current values (or no reference values): not tested, not counted in the score. */
  insufficientData: boolean;
  /** Categories in the current sample the reference never had (first 20, sorted). */
  unseenCategories?: string[];
}

export interface DriftReport {
  verdict: 'drift' | 'no_drift' | 'insufficient_data';
  /** Share of tested features that drifted, 0..1. */
  score: number;
  driftedFeatures: string[];
  features: FeatureDrift[];
  /** Rows in each sample (the longest column). */
  referenceCount: number;
  currentCount: number;
  options: DriftOptions;
}

type Column = readonly (number | string)[];

function usableValues(column: Column, kind: FeatureKind): { values: (number | string)[]; missing: number } {
  const values: (number | string)[] = [];
  for (const v of column) {
    if (typeof v === 'number') {
      if (Number.isFinite(v)) values.push(kind === 'numerical' ? v : String(v));
    } else if (typeof v === 'string' && v.trim() !== '') {
      if (kind === 'categorical') values.push(v);
      else {
        // Activities may hand over CSV fields unparsed; a numeric string is still a number.
        const parsed = Number(v);
        if (Number.isFinite(parsed)) values.push(parsed);
      }
    }
  }
  return { values, missing: column.length - values.length };
}

function thresholdFor(method: DriftMethod, feature: DatasetFeature, options: DriftOptions): number {
  if (feature.threshold !== undefined) return feature.threshold;
  if (method.yields === 'p_value') return options.pValueThreshold;
  if (method.name === 'psi') return options.psiThreshold;
  return method.defaultThreshold;
}

const UNSEEN_CATEGORIES_SHOWN = 20;

export function compareDatasets(input: {
  features: DatasetFeature[];
  reference: Record<string, Column>;
  current: Record<string, Column>;
  options: DriftOptions;
}): DriftReport {
  const { features, reference, current, options } = input;
  const columnOf = (sample: Record<string, Column>, side: string, name: string): Column => {
    const column = sample[name];
    if (!Array.isArray(column)) throw new DriftInputError(`feature "${name}" is missing from the ${side} sample`);
    return column;
  };
  const referenceCount = Math.max(0, ...features.map((f) => columnOf(reference, 'reference', f.name).length));
  const currentCount = Math.max(0, ...features.map((f) => columnOf(current, 'current', f.name).length));

  const results = features.map((feature): FeatureDrift => {
    const ref = usableValues(columnOf(reference, 'reference', feature.name), feature.type);
    const cur = usableValues(columnOf(current, 'current', feature.name), feature.type);
    const uniqueValues = new Set([...ref.values, ...cur.values]).size;
    const method = feature.method ? driftMethod(feature.method, feature.type) : chooseMethod(feature.type, ref.values.length, uniqueValues);
    const threshold = thresholdFor(method, feature, options);
    const base = {
      name: feature.name,
      type: feature.type,
      method: method.name,
      threshold,
      referenceCount: ref.values.length,
      currentCount: cur.values.length,
      missingCount: cur.missing,
      referenceMissingCount: ref.missing,
    };
    if (cur.values.length < options.minSamples || ref.values.length === 0) {
      return { ...base, statistic: NaN, drifted: false, insufficientData: true };
    }
    const comparison = method.compare(ref.values, cur.values, threshold);
    const result: FeatureDrift = { ...base, statistic: comparison.statistic, drifted: comparison.drifted, insufficientData: false };
    if (comparison.pValue !== undefined) result.pValue = comparison.pValue;
    if (feature.type === 'categorical') {
      const known = new Set(ref.values);
      const unseen = [...new Set(cur.values.filter((v) => !known.has(v)))].map(String).sort();
      if (unseen.length > 0) result.unseenCategories = unseen.slice(0, UNSEEN_CATEGORIES_SHOWN);
    }
    return result;
  });

  const tested = results.filter((f) => !f.insufficientData);
  const driftedFeatures = tested.filter((f) => f.drifted).map((f) => f.name);
  const score = tested.length === 0 ? 0 : driftedFeatures.length / tested.length;
  const verdict = currentCount < options.minSamples || tested.length === 0 ? 'insufficient_data' : score >= options.driftShare ? 'drift' : 'no_drift';
  return { verdict, score, driftedFeatures, features: results, referenceCount, currentCount, options };
}
