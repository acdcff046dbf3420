// The "model-monitor" mode: Model Monitor's data-quality checks run on the baseline's statistics and
// constraints and the current window's statistics (all three in Model Monitor's own formats), answering
// with violations in its constraint_violations.json format.
//
// Every check compares an observed share or distance with a threshold and fails below (shares) or above
// (distances) it, as the prebuilt container's own files show: "Expected match: 100.0%. Observed: Only
// 99.6% of data is Integral" for datatype_check_threshold 1.0, and "Value: 0.0 does not meet the constraint
// requirement" for a completeness of 0. Which checks run for a feature follows its monitoringConfigOverrides.
import { categoryCountsOf, driftSettings, kindOf, sketchOf, type BaselineDriftMethod } from './baseline';
import { resolveMonitoringConfig, type Constraints, type FeatureConstraints, type ResolvedMonitoringConfig } from './constraints';
import { categoricalChiSquared, categoricalLInfinity, cdfGap, robustDistance } from './distance';
import { commonCounts, type FeatureStatistics, type InferredType, type Statistics } from './statistics';
import { javaDouble } from './format';
import type { CheckType, Violation, Violations } from './violations';

export interface FeatureDrift {
  feature: string;
  kind: 'numerical' | 'categorical';
  method: BaselineDriftMethod;
  /** The L-infinity distance (robust-adjusted for linf_robust), or the chi-squared p-value. */
  value: number;
  threshold: number;
  drifted: boolean;
  baselineCount: number;
  currentCount: number;
  /** Numerical only: how far the sketches' rank errors may move the distance (99% confidence). */
  sketchError?: number;
  /** Numerical, when a sketch was compacted: where the distance lies given sketchError (robust-adjusted like `value`). */
  valueRange?: [number, number];
  /** Numerical: each sketch's rank error (0 for one nothing was compacted in); sketchError is their sum. */
  rankError?: { baseline: number; current: number };
  /** ChiSquared only: the chi-squared statistic behind the p-value in `value`. */
  statistic?: number;
}

export interface ModelMonitorCheckResult {
  violations: Violations;
  /** One entry per feature the drift comparison ran for, drifted or not. */
  drift: FeatureDrift[];
  /** Features the comparison could not run for, with the reason. */
  notCompared: { feature: string; reason: string }[];
}

export interface ModelMonitorCheckInput {
  baselineStatistics: Statistics;
  constraints: Constraints;
  currentStatistics: Statistics;
}

export function runModelMonitorChecks(input: ModelMonitorCheckInput): ModelMonitorCheckResult {
  const { baselineStatistics, constraints, currentStatistics } = input;
  const current = new Map(currentStatistics.features.map((f) => [f.name, f]));
  const baseline = new Map(baselineStatistics.features.map((f) => [f.name, f]));
  const expected = new Set(constraints.features.map((f) => f.name));
  const global = resolveMonitoringConfig(constraints);
  const columns = `Number of columns in current dataset: ${currentStatistics.features.length}, in baseline constraints: ${constraints.features.length}.`;

  const violations: Violation[] = [];
  const drift: FeatureDrift[] = [];
  const notCompared: ModelMonitorCheckResult['notCompared'] = [];
  const flag = (feature: string, type: CheckType, description: string) =>
    violations.push({ feature_name: feature, constraint_check_type: type, description });

  for (const constraint of constraints.features) {
    const config = resolveMonitoringConfig(constraints, constraint.name);
    const observed = current.get(constraint.name);
    if (!observed) {
      if (config.evaluateConstraints) flag(constraint.name, 'missing_column_check', `Feature is in the baseline constraints but not in the current dataset. ${columns}`);
      continue;
    }
    if (config.evaluateConstraints) {
      const typeShare = dataTypeMatchShare(constraint.inferred_type, observed);
      if (typeShare !== undefined && typeShare < config.datatypeCheckThreshold) {
        flag(
          constraint.name,
          'data_type_check',
          `Data type match requirement is not met. Expected data type: ${constraint.inferred_type}, Expected match: ${percent(config.datatypeCheckThreshold)}%. ` +
            `Observed: Only ${percent(typeShare)}% of data is ${constraint.inferred_type}.`,
        );
      }
      const completeness = completenessOf(observed);
      if (constraint.completeness !== undefined && completeness !== undefined && completeness < constraint.completeness) {
        flag(
          constraint.name,
          'completeness_check',
          `Data completeness requirement is not met. Expected completeness: ${percent(constraint.completeness)}%. Observed: Only ${percent(completeness)}% of data is complete.`,
        );
      }
      const domain = domainMatch(constraint, observed);
      if (domain && domain.share < config.domainContentThreshold) {
        const unseen = domain.unseen.slice(0, 5).map((v) => JSON.stringify(v)).join(', ') + (domain.unseen.length > 5 ? `, and ${domain.unseen.length - 5} more` : '');
        flag(
          constraint.name,
          'categorical_values_check',
          `Data content requirement is not met. Expected: at least ${percent(config.domainContentThreshold)}% of values in the baseline domain. ` +
            `Observed: Only ${percent(domain.share)}% of values are in the baseline domain (values outside it: ${unseen}).`,
        );
      }
    }
    if (!config.performComparison) continue;
    const reference = baseline.get(constraint.name);
    const result = reference ? compareDistribution(reference, observed, config) : 'not in the baseline statistics';
    if (typeof result === 'string') {
      notCompared.push({ feature: constraint.name, reason: result });
      continue;
    }
    drift.push(result);
    if (result.drifted) flag(constraint.name, 'baseline_drift_check', driftDescription(result));
  }

  if (global.evaluateConstraints) {
    for (const feature of currentStatistics.features) {
      if (!expected.has(feature.name)) flag(feature.name, 'extra_column_check', `Feature is in the current dataset but not in the baseline constraints. ${columns}`);
    }
  }
  return { violations: { violations }, drift, notCompared };
}

/** The drift comparison for one feature, or the reason it cannot run. */
function compareDistribution(reference: FeatureStatistics, observed: FeatureStatistics, config: ResolvedMonitoringConfig): FeatureDrift | string {
  const kind = kindOf(reference.inferred_type);
  if (!kind) return 'the baseline inferred_type is Unknown';
  if (kindOf(observed.inferred_type) !== kind) return `the current data is ${observed.inferred_type}, the baseline ${reference.inferred_type} (see data_type_check)`;
  const settings = driftSettings(kind, config);
  const base = { feature: reference.name, kind, method: settings.method, threshold: settings.threshold };
  if (kind === 'numerical') {
    const a = sketchOf(reference, 'baseline statistics.json');
    const b = sketchOf(observed, 'current statistics.json');
    if (!a || !b) return `no KLL sketch in the ${a ? 'current' : 'baseline'} statistics`;
    if (a.count === 0 || b.count === 0) return `no values in the ${a.count === 0 ? 'baseline' : 'current'} sketch`;
    const gap = cdfGap(a, b);
    const adjust = (d: number) => (settings.method === 'linf_robust' ? robustDistance(d, a.count, b.count) : d);
    const value = adjust(gap);
    const sketchError = a.normalizedRankError + b.normalizedRankError;
    const valueRange: [number, number] | undefined = sketchError > 0 ? [adjust(Math.max(0, gap - sketchError)), adjust(Math.min(1, gap + sketchError))] : undefined;
    return { ...base, value, drifted: value > settings.threshold, baselineCount: a.count, currentCount: b.count, sketchError, rankError: { baseline: a.normalizedRankError, current: b.normalizedRankError }, ...(valueRange ? { valueRange } : {}) };
  }
  const a = categoryCountsOf(reference);
  const b = categoryCountsOf(observed);
  if (!a || !b) return `no categorical buckets in the ${a ? 'current' : 'baseline'} statistics`;
  const { distance, n, m } = categoricalLInfinity(a, b);
  if (Number.isNaN(distance)) return `no values in the ${n === 0 ? 'baseline' : 'current'} categorical buckets`;
  if (settings.method === 'chisquare') {
    const chi = categoricalChiSquared(a, b);
    if (Number.isNaN(chi.pValue)) return 'chi-squared needs at least two baseline categories after regrouping';
    return { ...base, value: chi.pValue, statistic: chi.statistic, drifted: chi.pValue < settings.threshold, baselineCount: n, currentCount: m };
  }
  const value = settings.method === 'linf_robust' ? robustDistance(distance, n, m) : distance;
  return { ...base, value, drifted: value > settings.threshold, baselineCount: n, currentCount: m };
}

function driftDescription(d: FeatureDrift): string {
  if (d.method === 'chisquare') return `Categorical chi-squared p-value: ${javaDouble(d.value)} is below categorical threshold: ${javaDouble(d.threshold)}`;
  const kind = d.kind === 'numerical' ? 'Numerical' : 'Categorical';
  return `${kind} distance: ${javaDouble(d.value)} exceeds ${d.kind} threshold: ${javaDouble(d.threshold)}`;
}

function completenessOf(feature: FeatureStatistics): number | undefined {
  const { present, missing } = commonCounts(feature);
  return present + missing > 0 ? present / (present + missing) : undefined;
}

const INTEGRAL_TEXT = /^\s*[+-]?\d+\s*$/;

function matchesType(expected: InferredType, text: string): boolean {
  if (expected === 'Integral') return INTEGRAL_TEXT.test(text);
  return text.trim() !== '' && Number.isFinite(Number(text));
}

/**
 * The share of the current values that have the constraint's type, estimated from what statistics.json
 * keeps: a String value always counts as String; an Integral feature's numbers count when they are whole
 * (read from the KLL sketch's weighted items, exact while the sketch is uncompacted); a String-typed
 * window's values count when the text parses as the expected number type (read from its buckets).
 */
function dataTypeMatchShare(expected: InferredType, observed: FeatureStatistics): number | undefined {
  if (expected === 'Unknown' || commonCounts(observed).present === 0) return undefined;
  if (expected === 'String') return 1;
  if (observed.numerical_statistics) {
    if (expected === 'Fractional' || observed.inferred_type === 'Integral') return 1;
    const sketch = sketchOf(observed, 'current statistics.json');
    if (!sketch || sketch.count === 0) return 0;
    let whole = 0;
    for (const item of sketch.weightedValues()) if (Number.isInteger(item.value)) whole += item.weight;
    return whole / sketch.count;
  }
  const counts = categoryCountsOf(observed);
  if (!counts) return observed.inferred_type === 'String' ? 0 : undefined;
  let matching = 0;
  let all = 0;
  for (const [value, c] of counts) {
    all += c;
    if (matchesType(expected, value)) matching += c;
  }
  return all > 0 ? matching / all : undefined;
}

function domainMatch(constraint: FeatureConstraints, observed: FeatureStatistics): { share: number; unseen: string[] } | undefined {
  const domains = constraint.string_constraints?.domains;
  const counts = categoryCountsOf(observed);
  if (!domains || !counts) return undefined;
  const domain = new Set(domains);
  let inside = 0;
  let all = 0;
  const unseen: string[] = [];
  for (const [value, c] of counts) {
    all += c;
    if (domain.has(value)) inside += c;
    else if (c > 0) unseen.push(value);
  }
  return all > 0 ? { share: inside / all, unseen } : undefined;
}

/** A share as a percentage, printed the way Java prints a double (the container's "100.0%"). */
function percent(share: number): string {
  return javaDouble(share * 100);
}
