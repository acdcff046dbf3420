// The drift report and Model Monitor's files, both ways:
//   - modelMonitorModeReport: the model-monitor mode's report, from runModelMonitorChecks' answer: one
//     entry per feature as in the default mode, its baseline_drift_check result as the statistic, and the
//     verdict from the share of compared features that drifted;
//   - reportViolations: the default mode's findings as constraint_violations.json, so dashboards and alarms
//     that read Model Monitor's file keep working;
//   - withModelMonitorEvidence: a monitoring execution's own verdict, counted beside the stage's statistics
//     and, with `trust`, its drift-flagged features counted as drifted.
import { driftSettings, kindOf } from '../model-monitor/baseline';
import type { ModelMonitorCheckResult } from '../model-monitor/checks';
import { resolveMonitoringConfig, type Constraints } from '../model-monitor/constraints';
import { javaDouble } from '../model-monitor/format';
import type { Statistics } from '../model-monitor/statistics';
import type { ModelMonitorVerdict, Violation, Violations } from '../model-monitor/violations';
import { datasetVerdict, type DatasetFeature, type DriftOptions, type DriftReport, type FeatureDrift, type FeatureVerdict } from './index';
import type { DatasetProfile } from './profile';
import { SKETCH_CONFIDENCE, type DriftMethod } from './types';

export type DriftMode = 'default' | 'model-monitor';

export interface ModelMonitorModeInput {
  features: readonly DatasetFeature[];
  checks: ModelMonitorCheckResult;
  baselineStatistics: Statistics;
  constraints: Constraints;
  /** For counts of features the checks did not compare. */
  reference: DatasetProfile;
  current: DatasetProfile;
  options: DriftOptions;
}

/**
 * The model-monitor mode's report. A feature's verdict is its baseline_drift_check's: `drift` when the
 * check flags it (distance above, or chi-squared p-value below, the baseline's threshold), `no_drift`
 * when it compared and passed. Not compared: `missing_column` when the baseline has no such feature (in its
 * statistics or its constraints), `insufficient_data` when a side has no values, `not_compared` when the
 * constraints turn the comparison off, `not_computable` otherwise (the checks' reason in `note`). The
 * window drifts when the drifted share of compared features reaches driftShare; below minSamples rows it
 * is insufficient data, as in the default mode. Other check types are listed per feature (`violations`)
 * and in constraint_violations.json, but do not decide: retraining does not fix a missing column or a
 * type mismatch.
 */
export function modelMonitorModeReport(input: ModelMonitorModeInput): DriftReport {
  const { checks, constraints, reference, current, options } = input;
  const drift = new Map(checks.drift.map((d) => [d.feature, d]));
  const notCompared = new Map(checks.notCompared.map((n) => [n.feature, n.reason]));
  const constrained = new Set(constraints.features.map((f) => f.name));
  const inBaseline = new Set(input.baselineStatistics.features.map((f) => f.name));
  const violated = new Map<string, string[]>();
  for (const v of checks.violations.violations) {
    const list = violated.get(v.feature_name) ?? [];
    if (!list.includes(v.constraint_check_type)) list.push(v.constraint_check_type);
    violated.set(v.feature_name, list);
  }

  const features = input.features.map((feature): FeatureDrift => {
    const ref = reference.feature(feature.name);
    const cur = current.feature(feature.name);
    const settings = driftSettings(feature.type, resolveMonitoringConfig(constraints, feature.name));
    const yields: DriftMethod['yields'] = settings.yields;
    const counts = { referenceCount: ref?.count ?? 0, currentCount: cur?.count ?? 0, missingCount: cur?.missing ?? 0, referenceMissingCount: ref?.missing ?? 0 };
    const checksHere = violated.get(feature.name);
    const extra = checksHere ? { violations: checksHere } : {};
    const d = drift.get(feature.name);
    if (d) {
      const chi = d.method === 'chisquare';
      return {
        name: feature.name,
        type: feature.type,
        method: d.method,
        yields,
        statistic: chi ? (d.statistic ?? NaN) : d.value,
        ...(chi ? { pValue: d.value } : {}),
        threshold: d.threshold,
        drifted: d.drifted,
        verdict: d.drifted ? 'drift' : 'no_drift',
        insufficientData: false,
        ...counts,
        referenceCount: d.baselineCount,
        currentCount: d.currentCount,
        basis: d.valueRange ? 'sketch' : 'exact',
        ...(d.valueRange && d.rankError
          ? {
              errorBound: {
                statistic: d.valueRange,
                decisive: d.valueRange[0] > d.threshold === d.valueRange[1] > d.threshold,
                rankError: { reference: d.rankError.baseline, current: d.rankError.current },
                confidence: SKETCH_CONFIDENCE,
              },
            }
          : {}),
        ...extra,
      };
    }
    const untested = (verdict: FeatureVerdict, note: string, more: Partial<FeatureDrift> = {}): FeatureDrift => ({
      name: feature.name,
      type: feature.type,
      method: settings.method,
      yields,
      statistic: NaN,
      threshold: settings.threshold,
      drifted: false,
      verdict,
      insufficientData: true,
      ...counts,
      note,
      ...more,
      ...extra,
    });
    if (!inBaseline.has(feature.name) || !constrained.has(feature.name)) {
      const where = !inBaseline.has(feature.name) ? "the baseline's statistics" : "the baseline's constraints (extra_column_check)";
      return untested('missing_column', `feature "${feature.name}" is not in ${where}`, { missingFrom: 'reference' });
    }
    if (!cur || cur.count === 0) return untested('insufficient_data', `no values of "${feature.name}" in the window`);
    const reason = notCompared.get(feature.name);
    if (reason === undefined) return untested('not_compared', "perform_comparison is Disabled for this feature in the baseline's constraints");
    if (/^no values/.test(reason)) return untested('insufficient_data', reason);
    const baselineKind = kindOf(input.baselineStatistics.features.find((f) => f.name === feature.name)!.inferred_type);
    return untested('not_computable', baselineKind && baselineKind !== feature.type ? `the baseline has "${feature.name}" as ${baselineKind}: ${reason}` : reason);
  });
  return { ...datasetVerdict(features, current.rows, options), features, referenceCount: reference.rows, currentCount: current.rows, options };
}

/**
 * The default mode's findings in constraint_violations.json's shape: a drifted feature is a
 * baseline_drift_check (described with its own method and numbers), a feature the window lacks a
 * missing_column_check, one the baseline lacks an extra_column_check. Empty when nothing was found.
 */
export function reportViolations(report: Pick<DriftReport, 'features'>): Violations {
  const violations: Violation[] = [];
  for (const f of report.features) {
    if (f.verdict === 'drift') violations.push({ feature_name: f.name, constraint_check_type: 'baseline_drift_check', description: driftDescription(f) });
    else if (f.verdict === 'missing_column' && f.missingFrom === 'current') {
      violations.push({ feature_name: f.name, constraint_check_type: 'missing_column_check', description: 'Feature is in the baseline but not in the current dataset.' });
    } else if (f.verdict === 'missing_column' && f.missingFrom === 'reference') {
      violations.push({ feature_name: f.name, constraint_check_type: 'extra_column_check', description: 'Feature is in the current dataset but not in the baseline.' });
    }
  }
  return { violations };
}

const METHOD_WORDING: Record<string, string> = {
  ks: 'Kolmogorov-Smirnov p-value',
  chisquare: 'Chi-squared p-value',
  wasserstein: 'Wasserstein distance (normalised)',
  jensenshannon: 'Jensen-Shannon distance',
  psi: 'PSI',
};

function driftDescription(f: FeatureDrift): string {
  const kind = f.type;
  if (f.yields === 'p_value') return `${METHOD_WORDING[f.method] ?? `${f.method} p-value`}: ${javaDouble(f.pValue ?? NaN)} is below ${kind} threshold: ${javaDouble(f.threshold)}`;
  // Model Monitor's own wording for its own distance, so readers of its files parse ours too.
  const name = f.method === 'linf' || f.method === 'linf_robust' ? `${kind === 'numerical' ? 'Numerical' : 'Categorical'} distance` : (METHOD_WORDING[f.method] ?? `${f.method} distance`);
  return `${name}: ${javaDouble(f.statistic)} exceeds ${kind} threshold: ${javaDouble(f.threshold)}`;
}

/** A monitoring execution's verdict beside the stage's own, as recorded in the report and the summary. */
export interface ModelMonitorEvidence {
  violationsUri: string;
  violationCount: number;
  /** Features with any violation, in file order. */
  flaggedFeatures: string[];
  /** Features with a baseline_drift_check violation. */
  driftFlagged: string[];
  /** Flagged features per check type (only the types present). */
  byCheck: Record<string, string[]>;
  /** Flagged features the stage's own statistics also find drifted. */
  alsoDriftedHere: string[];
  /** Flagged features that are not among the pipeline's features. */
  notInSchema: string[];
  /** drift.trustModelMonitor: drift-flagged features count as drifted. */
  trusted: boolean;
  /** With trust: the drift-flagged features the stage had not found drifted, now counted as drifted. */
  countedAsDrifted: string[];
  /** One sentence, e.g. "Model Monitor flagged 3 features (2 for drift), 2 of which we also find drifted". */
  summary: string;
}

/**
 * Records a monitoring execution's verdict on the report: per feature the check types it flagged
 * (`modelMonitorFlagged`), and the counts. With `trust`, every drift-flagged feature of the pipeline's
 * counts as drifted (a tested feature's verdict becomes `drift`, an untested one is counted too) and the
 * score and verdict are recomputed; a window below minSamples rows stays insufficient data.
 */
export function withModelMonitorEvidence(report: DriftReport, verdict: ModelMonitorVerdict, options: { violationsUri: string; trust: boolean }): { report: DriftReport; evidence: ModelMonitorEvidence } {
  const ours = new Set(report.features.map((f) => f.name));
  const driftedHere = new Set(report.driftedFeatures);
  const byCheck: Record<string, string[]> = {};
  for (const [type, list] of [...Object.entries(verdict.byCheck), ...Object.entries(verdict.otherChecks)]) if (list.length > 0) byCheck[type] = [...list];
  const checksOf = (name: string) => Object.entries(byCheck).filter(([, list]) => list.includes(name)).map(([type]) => type);
  const countedAsDrifted: string[] = [];
  const features = report.features.map((f): FeatureDrift => {
    const flagged = checksOf(f.name);
    if (flagged.length === 0) return f;
    const marked = { ...f, modelMonitorFlagged: flagged };
    if (!options.trust || f.drifted || !verdict.driftedFeatures.includes(f.name)) return marked;
    countedAsDrifted.push(f.name);
    const why = "counted as drifted: Model Monitor's baseline_drift_check flagged it (drift.trustModelMonitor)";
    return { ...marked, drifted: true, verdict: 'drift', insufficientData: false, note: f.note ? `${f.note}; ${why}` : why };
  });
  const alsoDriftedHere = verdict.flaggedFeatures.filter((name) => driftedHere.has(name));
  const evidence: ModelMonitorEvidence = {
    violationsUri: options.violationsUri,
    violationCount: verdict.violationCount,
    flaggedFeatures: [...verdict.flaggedFeatures],
    driftFlagged: [...verdict.driftedFeatures],
    byCheck,
    alsoDriftedHere,
    notInSchema: verdict.flaggedFeatures.filter((name) => !ours.has(name)),
    trusted: options.trust,
    countedAsDrifted,
    summary: evidenceSentence(verdict, alsoDriftedHere.length, options.trust, countedAsDrifted.length),
  };
  const updated = options.trust ? { ...report, features, ...datasetVerdict(features, report.currentCount, report.options) } : { ...report, features };
  return { report: updated, evidence };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function evidenceSentence(verdict: ModelMonitorVerdict, agreed: number, trusted: boolean, counted: number): string {
  const flagged = verdict.flaggedFeatures.length;
  if (flagged === 0) return `Model Monitor flagged no feature (${plural(verdict.violationCount, 'violation')})`;
  const sentence = `Model Monitor flagged ${plural(flagged, 'feature')} (${verdict.driftedFeatures.length} for drift), ${agreed} of which we also find drifted`;
  if (!trusted) return sentence;
  return counted > 0 ? `${sentence}; trusted, so ${plural(counted, 'more feature')} count${counted === 1 ? 's' : ''} as drifted` : `${sentence}; trusted, adding no drifted feature`;
}
