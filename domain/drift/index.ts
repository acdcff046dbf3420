// Drift registry and dataset report. Adding a method means adding its file and one line to
// `registeredMethods`; choosing one is the table in `defaultMethodTable`. Reports are computed from
// feature profiles (./profile.ts): compareProfiles for streamed data, compareDatasets for in-memory columns.
import { chisquare } from './chisquare';
import { jensenshannon } from './jensenshannon';
import { ks } from './ks';
import { linf, linfRobust } from './linf';
import { psi } from './psi';
import { DatasetProfile, DEFAULT_PROFILE_LIMITS, type FeatureProfile, type ProfileLimits } from './profile';
import { categoryCountsOf, POOLED_CATEGORY } from './samples';
import { DriftInputError, type ComparisonBasis, type DriftMethod, type ErrorBound, type FeatureKind } from './types';
import { wasserstein } from './wasserstein';

export { chiSquareGoodnessOfFit, chisquare } from './chisquare';
export { jensenShannonDistance, jensenshannon } from './jensenshannon';
export { kolmogorovSmirnov, ks, type KolmogorovSmirnovResult } from './ks';
export { lInfinityDistance, linf, linfRobust } from './linf';
export { DEFAULT_PSI_BINNING, populationStabilityIndex, psi, psiWith, type PsiBinning } from './psi';
export {
  CategoricalProfile,
  DatasetProfile,
  DEFAULT_PROFILE_LIMITS,
  NumericalProfile,
  type DatasetProfileJson,
  type FeatureProfile,
  type FeatureProfileJson,
  type ProfiledFeature,
  type ProfileLimits,
} from './profile';
export {
  CaptureWindowProfile,
  DatasetSplitProfile,
  UNREADABLE_EXAMPLES_KEPT,
  type CaptureWindowProfileJson,
  type CaptureWindowStats,
  type DatasetSplitProfileJson,
  type DatasetSplitStats,
} from './profiling';
// statistics.json has one writer, Model Monitor's format module's; re-exported for the drift stage.
export { modelMonitorStatistics } from '../model-monitor/profile-statistics';
export {
  DriftInputError,
  type ComparisonBasis,
  type DriftComparison,
  type DriftMethod,
  type ErrorBound,
  type FeatureKind,
  type ProfileComparison,
} from './types';
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
  /** Why this feature is not compared at all (e.g. a Model Monitor baseline's perform_comparison Disabled). */
  notCompared?: string;
}

/**
 * A feature's outcome: `drift`/`no_drift` when tested; `insufficient_data` below minSamples usable
 * current values (or no reference values); `missing_column` when a side has no such column;
 * `not_computable` when the profiles cannot give the method's statistic (see `note`); `not_compared`
 * when the baseline asks for no comparison (see `note`).
 */
export type FeatureVerdict = 'drift' | 'no_drift' | 'insufficient_data' | 'missing_column' | 'not_computable' | 'not_compared';

export interface FeatureDrift {
  name: string;
  type: FeatureKind;
  method: string;
  /** Whether `statistic` is compared with `threshold` as a p-value's test statistic (pValue) or as a distance. */
  yields: DriftMethod['yields'];
  /** NaN (null once serialised) when the feature was not tested; +Infinity from chi-square on an unseen category. */
  statistic: number;
  pValue?: number;
  threshold: number;
  drifted: boolean;
  verdict: FeatureVerdict;
  /** Usable (non-missing) values compared. */
  referenceCount: number;
  currentCount: number;
  /** Current values excluded as missing: non-finite or non-numeric numbers, empty strings. */
  missingCount: number;
  referenceMissingCount: number;
  /** Not tested, and not counted in the score: see `verdict`. */
  insufficientData: boolean;
  /** How the statistic was computed; absent when the feature was not tested. */
  basis?: ComparisonBasis;
  /** Present when a sketch was involved: where the exact statistic lies. */
  errorBound?: ErrorBound;
  /** For `missing_column`: which side lacks the column. */
  missingFrom?: 'reference' | 'current';
  note?: string;
  /** Categories in the current sample the reference never had (first 20, sorted). */
  unseenCategories?: string[];
  /** model-monitor mode: the check types this feature violated in the stage's own constraint_violations.json. */
  violations?: string[];
  /** The check types a given Model Monitor execution's constraint_violations.json flagged this feature with (evidence). */
  modelMonitorFlagged?: string[];
}

export interface DriftReport {
  verdict: 'drift' | 'no_drift' | 'insufficient_data';
  /** Share of tested features that drifted, 0..1. */
  score: number;
  driftedFeatures: string[];
  features: FeatureDrift[];
  /** Rows in each sample. */
  referenceCount: number;
  currentCount: number;
  options: DriftOptions;
}

function thresholdFor(method: DriftMethod, feature: DatasetFeature, options: DriftOptions): number {
  if (feature.threshold !== undefined) return feature.threshold;
  if (method.yields === 'p_value') return options.pValueThreshold;
  if (method.name === 'psi') return options.psiThreshold;
  return method.defaultThreshold;
}

const UNSEEN_CATEGORIES_SHOWN = 20;

/** Distinct values over both profiles, for the method table; Infinity when either kept too many to count. */
function distinctValues(reference: FeatureProfile, current: FeatureProfile): number {
  if (reference.kind === 'numerical' && current.kind === 'numerical') {
    const a = reference.distinctCounts();
    const b = current.distinctCounts();
    if (!a || !b) return Infinity;
    return new Set([...a.keys(), ...b.keys()]).size;
  }
  const a = categoryCountsOf(reference);
  const b = categoryCountsOf(current);
  if (!a || !b || a.overflow > 0 || b.overflow > 0) return Infinity;
  return new Set([...a.counts.keys(), ...b.counts.keys()]).size;
}

function unseenCategories(reference: FeatureProfile, current: FeatureProfile): string[] {
  if (reference.kind !== 'categorical' || current.kind !== 'categorical' || reference.overflow > 0) return [];
  const known = reference.counts();
  return [...current.counts().keys()].filter((c) => !known.has(c) && c !== POOLED_CATEGORY).sort();
}

/**
 * The drift report from two dataset profiles (the reference: the champion's training data; the current:
 * the captured window). Features without a profile on a side are `missing_column` findings, never a crash.
 */
export function compareProfiles(input: { features: DatasetFeature[]; reference: DatasetProfile; current: DatasetProfile; options: DriftOptions }): DriftReport {
  const { features, reference, current, options } = input;
  const results = features.map((feature): FeatureDrift => {
    const ref = reference.feature(feature.name);
    const cur = current.feature(feature.name);
    const forced = feature.method ? driftMethod(feature.method, feature.type) : undefined;
    // Keys in reading order: what was compared and how, then the verdict, then the sample sizes.
    const result = (method: DriftMethod, threshold: number, outcome: Partial<FeatureDrift> & Pick<FeatureDrift, 'verdict'>): FeatureDrift => ({
      name: feature.name,
      type: feature.type,
      method: method.name,
      yields: method.yields,
      statistic: NaN,
      ...(outcome.pValue === undefined ? {} : { pValue: outcome.pValue }),
      threshold,
      drifted: false,
      insufficientData: true,
      ...outcome,
      referenceCount: ref?.count ?? 0,
      currentCount: cur?.count ?? 0,
      missingCount: cur?.missing ?? 0,
      referenceMissingCount: ref?.missing ?? 0,
    });
    const untested = (method: DriftMethod, verdict: FeatureVerdict, extra: Partial<FeatureDrift> = {}) => result(method, thresholdFor(method, feature, options), { verdict, ...extra });
    const fallback = forced ?? chooseMethod(feature.type, ref?.count ?? 0, Infinity);
    if (!ref || !cur) {
      const missingFrom = !ref ? 'reference' : 'current';
      return untested(fallback, 'missing_column', { missingFrom, note: `feature "${feature.name}" is missing from the ${missingFrom} sample` });
    }
    if (feature.notCompared !== undefined) return untested(fallback, 'not_compared', { note: feature.notCompared });
    if (ref.kind !== feature.type || cur.kind !== feature.type) {
      return untested(fallback, 'not_computable', { note: `feature "${feature.name}" is ${feature.type} but was profiled as ${ref.kind} (reference) and ${cur.kind} (current)` });
    }
    const method = forced ?? chooseMethod(feature.type, ref.count, distinctValues(ref, cur));
    const threshold = thresholdFor(method, feature, options);
    if (cur.count < options.minSamples || ref.count === 0) return untested(method, 'insufficient_data');
    let comparison;
    try {
      comparison = method.compareProfiles(ref, cur, threshold);
    } catch (err) {
      if (!(err instanceof DriftInputError)) throw err;
      return untested(method, 'not_computable', { note: err.message });
    }
    const unseen = unseenCategories(ref, cur);
    return result(method, threshold, {
      statistic: comparison.statistic,
      ...(comparison.pValue === undefined ? {} : { pValue: comparison.pValue }),
      drifted: comparison.drifted,
      verdict: comparison.drifted ? 'drift' : 'no_drift',
      insufficientData: false,
      basis: comparison.basis,
      ...(comparison.errorBound ? { errorBound: comparison.errorBound } : {}),
      ...(comparison.note ? { note: comparison.note } : {}),
      ...(unseen.length > 0 ? { unseenCategories: unseen.slice(0, UNSEEN_CATEGORIES_SHOWN) } : {}),
    });
  });

  return { ...datasetVerdict(results, current.rows, options), features: results, referenceCount: reference.rows, currentCount: current.rows, options };
}

/**
 * The window's verdict from its features: the share of tested features that drifted against driftShare;
 * `insufficient_data` when the window has fewer than minSamples rows or no feature could be tested.
 */
export function datasetVerdict(features: readonly FeatureDrift[], currentRows: number, options: Pick<DriftOptions, 'driftShare' | 'minSamples'>): Pick<DriftReport, 'verdict' | 'score' | 'driftedFeatures'> {
  const tested = features.filter((f) => !f.insufficientData);
  const driftedFeatures = tested.filter((f) => f.drifted).map((f) => f.name);
  const score = tested.length === 0 ? 0 : driftedFeatures.length / tested.length;
  const verdict = currentRows < options.minSamples || tested.length === 0 ? 'insufficient_data' : score >= options.driftShare ? 'drift' : 'no_drift';
  return { verdict, score, driftedFeatures };
}

type Column = readonly (number | string)[];

/** compareProfiles over in-memory columns (each profiled whole, so exact wherever a side has ≤ 10,000 values). */
export function compareDatasets(input: {
  features: DatasetFeature[];
  reference: Record<string, Column>;
  current: Record<string, Column>;
  options: DriftOptions;
  limits?: ProfileLimits;
}): DriftReport {
  const limits = input.limits ?? DEFAULT_PROFILE_LIMITS;
  return compareProfiles({
    features: input.features,
    reference: DatasetProfile.ofColumns(input.features, input.reference, limits),
    current: DatasetProfile.ofColumns(input.features, input.current, limits),
    options: input.options,
  });
}
