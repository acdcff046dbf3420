// SageMaker Model Monitor compatibility, pure: read and write its three files, run its data-quality
// checks on statistics, turn a baseline into reference distributions, and read a monitoring verdict.
// See docs/model-monitor.md.
export { ModelMonitorFormatError, javaDouble, type FormatIssue } from './format';
export {
  InferredType,
  StatisticsSchema,
  parseStatistics,
  writeStatistics,
  commonCounts,
  type Statistics,
  type FeatureStatistics,
  type NumericalStatistics,
  type StringStatistics,
} from './statistics';
export {
  ConstraintsSchema,
  DOCUMENTED_DEFAULTS,
  parseConstraints,
  writeConstraints,
  resolveMonitoringConfig,
  type Constraints,
  type FeatureConstraints,
  type MonitoringConfig,
  type ResolvedMonitoringConfig,
} from './constraints';
export {
  CHECK_TYPES,
  ViolationsSchema,
  parseViolations,
  writeViolations,
  readModelMonitorVerdict,
  isCheckType,
  type CheckType,
  type Violation,
  type Violations,
  type ModelMonitorVerdict,
  type ReportedDistance,
} from './violations';
export { readModelMonitorBaseline, type ModelMonitorBaseline, type ReferenceFeature, type BaselineDriftMethod } from './baseline';
export { runModelMonitorChecks, type ModelMonitorCheckInput, type ModelMonitorCheckResult, type FeatureDrift } from './checks';
export { modelMonitorBuckets, MODEL_MONITOR_BUCKETS, type KllBucket, type WeightedValues } from './buckets';
export { modelMonitorStatistics } from './profile-statistics';
export { modelMonitorReferenceProfile, type ModelMonitorReference, type BaselineFiles } from './reference-profile';
export { suggestConstraints, suggestedMonitoringConfig } from './suggest';
export { cdfGap, categoricalLInfinity, categoricalChiSquared, robustDistance, ROBUST_ALLOWANCE } from './distance';
