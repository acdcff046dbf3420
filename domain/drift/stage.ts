// The drift stage's decision, pure: two profiles (and, for a Model Monitor baseline, its files) in; the
// dataset report, the window's statistics.json, the stage's constraint_violations.json and the evidence of
// a monitoring execution out. activities/drift.ts reads S3 and profiles; everything it then decides is here.
//
//   baseline \ mode | default                                          | model-monitor
//   dataset         | Evidently's table per feature (compareProfiles)  | the six checks against the split's statistics and the constraints a baseline job would suggest
//   model-monitor   | each feature as its monitoring_config says       | the six checks against the baseline job's own files
//                   | (linf / linf_robust / chisquare and threshold)   |
import { readModelMonitorVerdict, type Violations } from '../model-monitor/violations';
import { runModelMonitorChecks, type ModelMonitorCheckResult } from '../model-monitor/checks';
import { driftSettings, type ModelMonitorBaseline } from '../model-monitor/baseline';
import { resolveMonitoringConfig, type Constraints } from '../model-monitor/constraints';
import { modelMonitorStatistics } from '../model-monitor/profile-statistics';
import type { Statistics } from '../model-monitor/statistics';
import { suggestConstraints } from '../model-monitor/suggest';
import { featureHistogram } from './histogram';
import { compareProfiles, type DatasetFeature, type DriftOptions, type DriftReport } from './index';
import { modelMonitorModeReport, reportViolations, withModelMonitorEvidence, type DriftMode, type ModelMonitorEvidence } from './model-monitor';
import type { DatasetProfile } from './profile';
import type { ReportedFeature } from './stage-report';

export type StageReference =
  | { kind: 'dataset'; profile: DatasetProfile }
  | { kind: 'model-monitor'; profile: DatasetProfile; statistics: Statistics; constraints: Constraints; baseline: ModelMonitorBaseline };

export interface StageInput {
  features: readonly DatasetFeature[];
  mode: DriftMode;
  reference: StageReference;
  current: DatasetProfile;
  options: DriftOptions;
  /** A monitoring execution's constraint_violations.json, already parsed, and where it came from. */
  modelMonitorVerdict?: { violations: Violations; uri: string; trust: boolean };
}

export interface StageResult {
  report: Omit<DriftReport, 'features'> & { features: ReportedFeature[] };
  /** The window's statistics.json. */
  currentStatistics: Statistics;
  /** The stage's constraint_violations.json: the checks' in model-monitor mode, the report's findings otherwise. */
  violations: Violations;
  /** model-monitor mode: the checks' full answer. */
  checks?: ModelMonitorCheckResult;
  /** model-monitor mode with a dataset baseline: what the checks compared against. */
  suggestedBaseline?: { statistics: Statistics; constraints: Constraints };
  evidence?: ModelMonitorEvidence;
}

export function decideDrift(input: StageInput): StageResult {
  const { reference, current, options } = input;
  const currentStatistics = modelMonitorStatistics(current);
  let report: DriftReport;
  let violations: Violations;
  let checks: ModelMonitorCheckResult | undefined;
  let suggestedBaseline: StageResult['suggestedBaseline'];

  if (input.mode === 'model-monitor') {
    let baselineStatistics: Statistics;
    let constraints: Constraints;
    if (reference.kind === 'model-monitor') ({ statistics: baselineStatistics, constraints } = reference);
    else {
      baselineStatistics = modelMonitorStatistics(reference.profile);
      constraints = suggestConstraints(baselineStatistics);
      suggestedBaseline = { statistics: baselineStatistics, constraints };
    }
    checks = runModelMonitorChecks({ baselineStatistics, constraints, currentStatistics });
    report = modelMonitorModeReport({ features: input.features, checks, baselineStatistics, constraints, reference: reference.profile, current, options });
    violations = checks.violations;
  } else {
    const features = reference.kind === 'model-monitor' ? withBaselineMethods(input.features, reference.constraints) : input.features;
    report = compareProfiles({ features: [...features], reference: reference.profile, current, options });
    if (reference.kind === 'model-monitor') report = withSkipReasons(report, reference.baseline);
    violations = reportViolations(report);
  }

  let evidence: ModelMonitorEvidence | undefined;
  if (input.modelMonitorVerdict) {
    const { violations: given, uri, trust } = input.modelMonitorVerdict;
    ({ report, evidence } = withModelMonitorEvidence(report, readModelMonitorVerdict(given), { violationsUri: uri, trust }));
  }
  const features = report.features.map((f): ReportedFeature => ({ ...f, histogram: featureHistogram(reference.profile.feature(f.name), current.feature(f.name)) }));
  return {
    report: { ...report, features },
    currentStatistics,
    violations,
    ...(checks ? { checks } : {}),
    ...(suggestedBaseline ? { suggestedBaseline } : {}),
    ...(evidence ? { evidence } : {}),
  };
}

/**
 * Each feature compared as the Model Monitor baseline's monitoring_config says (its overrides included):
 * linf or linf_robust with comparison_threshold, or for String features categorical_drift_method with the
 * categorical threshold; perform_comparison Disabled leaves the feature out. A feature the baseline lacks
 * shows the method it would have had.
 */
function withBaselineMethods(features: readonly DatasetFeature[], constraints: Constraints): DatasetFeature[] {
  return features.map((feature) => {
    const settings = driftSettings(feature.type, resolveMonitoringConfig(constraints, feature.name));
    return {
      ...feature,
      method: settings.method,
      threshold: settings.threshold,
      ...(settings.compare ? {} : { notCompared: "perform_comparison is Disabled for this feature in the baseline's constraints" }),
    };
  });
}

/** A feature the baseline could not give says why (readModelMonitorBaseline's `skipped`). */
function withSkipReasons(report: DriftReport, baseline: ModelMonitorBaseline): DriftReport {
  const reasons = new Map(baseline.skipped.map((s) => [s.name, s.reason]));
  return {
    ...report,
    features: report.features.map((f) => {
      if (f.verdict !== 'missing_column' || f.missingFrom !== 'reference') return f;
      return { ...f, note: `feature "${f.name}" is missing from the Model Monitor baseline: ${reasons.get(f.name) ?? 'not in its statistics.json'}` };
    }),
  };
}
