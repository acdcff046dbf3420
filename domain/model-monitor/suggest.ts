// The constraints.json a baseline job would suggest from a dataset's statistics, for the model-monitor mode
// when the baseline is the champion's training data rather than a baseline job's files. The shape is the
// container's (test/fixtures/model-monitor/churn-baseline/constraints.json): per feature its inferred type,
// its completeness as observed, is_non_negative for numbers and the observed categories as the domain of a
// String feature (when its buckets list every value); monitoring_config as a baseline job writes it (type and domain thresholds 1.0,
// comparison_threshold 0.1, Robust).
import type { Constraints, FeatureConstraints } from './constraints';
import { commonCounts, type Statistics } from './statistics';

/** monitoring_config as a baseline job writes it. */
export function suggestedMonitoringConfig(): NonNullable<Constraints['monitoring_config']> {
  return {
    evaluate_constraints: 'Enabled',
    emit_metrics: 'Enabled',
    datatype_check_threshold: 1.0,
    domain_content_threshold: 1.0,
    distribution_constraints: { perform_comparison: 'Enabled', comparison_threshold: 0.1, comparison_method: 'Robust' },
  };
}

export function suggestConstraints(statistics: Statistics): Constraints {
  const features: FeatureConstraints[] = [];
  for (const feature of statistics.features) {
    if (feature.inferred_type === 'Unknown') continue;
    const { present, missing } = commonCounts(feature);
    const suggested: FeatureConstraints = { name: feature.name, inferred_type: feature.inferred_type };
    if (present + missing > 0) suggested.completeness = present / (present + missing);
    const min = feature.numerical_statistics?.min;
    if (feature.numerical_statistics && min !== undefined) suggested.num_constraints = { is_non_negative: min >= 0 };
    // A domain only when the buckets list every value: categories pooled past a profile's cap are unknown.
    const buckets = feature.string_statistics?.distribution?.categorical?.buckets;
    if (buckets && buckets.reduce((n, b) => n + b.count, 0) === present) suggested.string_constraints = { domains: buckets.map((b) => b.value) };
    features.push(suggested);
  }
  return { version: 0, features, monitoring_config: suggestedMonitoringConfig() };
}
