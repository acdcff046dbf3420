// drift-report.json: what the drift stage writes beside the run (activities/drift.ts) and the HTML report
// draws (./report-html.ts). The dataset report (compareProfiles or the model-monitor mode) plus where the
// data came from, how it was read, the files written beside it, and Model Monitor's verdict if one was given.
import type { DriftReport, FeatureDrift } from './index';
import type { FeatureHistogram } from './histogram';
import type { DriftMode, ModelMonitorEvidence } from './model-monitor';
import type { ProfileLimits } from './profile';

export type DriftBaselineRecord =
  | ({
      kind: 'dataset';
      datasetVersion: string;
      uri: string;
      /** Where the split's profile is kept (drift.keepBaselineProfile), and whether this run reused it instead of reading the split. */
      keptProfile?: { uri: string; reused: boolean };
    } & Record<string, unknown>)
  | {
      kind: 'model-monitor';
      statisticsUri: string;
      constraintsUri: string;
      /** Rows the baseline job profiled (statistics.json's dataset.item_count). */
      rows: number;
      /** Baseline features the stage could not use, with the reason (readModelMonitorBaseline's `skipped`). */
      skipped: { name: string; reason: string }[];
    };

export interface ReportedFeature extends FeatureDrift {
  /** Reference against current, for the HTML report; null when neither side has values. */
  histogram: FeatureHistogram | null;
}

export interface DriftStageReport extends Omit<DriftReport, 'features'> {
  model: string;
  endpoint: string;
  variant: string;
  window: { from: string; to: string };
  mode: DriftMode;
  baseline: DriftBaselineRecord;
  capture: Record<string, unknown>;
  processing: Record<string, unknown>;
  profileLimits: ProfileLimits;
  /** The window's statistics.json, in Model Monitor's format. */
  statisticsUri: string;
  /** The stage's constraint_violations.json, in Model Monitor's format (empty list when nothing was found). */
  violationsUri: string;
  /** drift-report.html: verdict, per-feature table and histograms. */
  htmlReportUri: string;
  /** model-monitor mode with a dataset baseline: the statistics and constraints the checks were run against. */
  suggestedBaseline?: { statisticsUri: string; constraintsUri: string };
  /** model-monitor mode: the checks' violations per type, and features the comparison could not run for. */
  modelMonitorChecks?: { violationCount: number; byCheck: Record<string, string[]>; notCompared: { feature: string; reason: string }[] };
  /** A monitoring execution's own verdict, when the run was given one. */
  modelMonitor?: ModelMonitorEvidence;
  features: ReportedFeature[];
}
