// Model Monitor's constraint_violations.json, the verdict of one monitoring execution
// (docs: model-monitor-interpreting-violations):
//   { "violations": [ { feature_name, constraint_check_type, description } ] }
//
// The prebuilt container uses six check types. Bring-your-own containers write the same file with their
// own check types and extra keys, and some leave out the description, so the check type is any string
// and the description optional; what this module reads from it is the feature and the check.
import { z } from 'zod';
import { parseModelMonitorFile, writeModelMonitorFile } from './format';

export const CHECK_TYPES = [
  'data_type_check',
  'completeness_check',
  'baseline_drift_check',
  'missing_column_check',
  'extra_column_check',
  'categorical_values_check',
] as const;
export type CheckType = (typeof CHECK_TYPES)[number];

export const ViolationSchema = z.looseObject({
  feature_name: z.string(),
  constraint_check_type: z.string().min(1),
  description: z.string().optional(),
});
export type Violation = z.infer<typeof ViolationSchema>;

export const ViolationsSchema = z.looseObject({ violations: z.array(ViolationSchema) });
export type Violations = z.infer<typeof ViolationsSchema>;

export function parseViolations(input: unknown, file = 'constraint_violations.json'): Violations {
  return parseModelMonitorFile(ViolationsSchema, input, file);
}

export function writeViolations(violations: Violations, file = 'constraint_violations.json'): string {
  return writeModelMonitorFile(ViolationsSchema, violations, file);
}

export function isCheckType(value: string): value is CheckType {
  return (CHECK_TYPES as readonly string[]).includes(value);
}

/** A distance Model Monitor printed in a baseline_drift_check description, with the threshold it beat. */
export interface ReportedDistance {
  feature: string;
  kind: 'numerical' | 'categorical';
  distance: number;
  threshold: number;
}

/** Model Monitor's verdict as evidence the drift stage can count beside its own statistics. */
export interface ModelMonitorVerdict {
  violationCount: number;
  /** Features flagged by each check type, in file order, each once. Unknown (BYOC) types go to `otherChecks`. */
  byCheck: Record<CheckType, string[]>;
  otherChecks: Record<string, string[]>;
  /** Features with a baseline_drift_check violation. */
  driftedFeatures: string[];
  /** Features with any violation. */
  flaggedFeatures: string[];
  /** Distances parsed from drift descriptions where the container wrote them. */
  distances: ReportedDistance[];
}

// The prebuilt container's wording, e.g. "Numerical distance: 0.2711598746081505 exceeds numerical threshold: 0".
const DISTANCE_DESCRIPTION = /(numerical|categorical) distance:\s*([-+0-9.eE]+)\s+exceeds\s+\w+\s+threshold:\s*([-+0-9.eE]+)/i;

export function readModelMonitorVerdict(violations: Violations): ModelMonitorVerdict {
  const byCheck = Object.fromEntries(CHECK_TYPES.map((type) => [type, [] as string[]])) as Record<CheckType, string[]>;
  const otherChecks: Record<string, string[]> = {};
  const flagged: string[] = [];
  const distances: ReportedDistance[] = [];
  const addOnce = (list: string[], feature: string) => {
    if (!list.includes(feature)) list.push(feature);
  };
  for (const violation of violations.violations) {
    const type = violation.constraint_check_type;
    addOnce(isCheckType(type) ? byCheck[type] : (otherChecks[type] ??= []), violation.feature_name);
    addOnce(flagged, violation.feature_name);
    const match = type === 'baseline_drift_check' ? DISTANCE_DESCRIPTION.exec(violation.description ?? '') : null;
    if (match) {
      const distance = Number(match[2]);
      const threshold = Number(match[3]);
      if (Number.isFinite(distance) && Number.isFinite(threshold)) {
        distances.push({ feature: violation.feature_name, kind: match[1]!.toLowerCase() as ReportedDistance['kind'], distance, threshold });
      }
    }
  }
  return {
    violationCount: violations.violations.length,
    byCheck,
    otherChecks,
    driftedFeatures: [...byCheck.baseline_drift_check],
    flaggedFeatures: flagged,
    distances,
  };
}
