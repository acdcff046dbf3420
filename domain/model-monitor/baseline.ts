// A Model Monitor baseline (statistics.json + constraints.json) as reference distributions for the drift
// stage. The interface, all of it:
//
//   readModelMonitorBaseline(statistics, constraints) → {
//     itemCount,                       // rows in the baseline dataset
//     features: ReferenceFeature[],    // one per baseline feature the drift stage can compare
//     skipped: { name, reason }[],     // features it cannot (Unknown type, no sketch, not in statistics, ...)
//   }
//
//   ReferenceFeature = {
//     name, inferredType,              // Model Monitor's type: Integral | Fractional | String
//     kind: 'numerical' | 'categorical',
//     present, missing,                // the baseline's counts
//     sketch?: KllSketch,              // numerical: the baseline's KLL sketch (domain/drift/kll.ts)
//     categories?: { value, count }[], // categorical: counts from the categorical buckets
//     completeness?, domain?,          // the constraints on this feature, if any
//     drift: {
//       compare,                       // perform_comparison (with this feature's overrides)
//       method: 'linf' | 'linf_robust' | 'chisquare',
//       yields: 'distance' | 'p_value',
//       threshold,                     // comparison_threshold, or the categorical one for String features
//     },
//   }
//
// For a numerical feature 'linf' is the largest gap between the two CDFs (the KS D statistic) computed
// from sketches; for a categorical one it is the largest gap between category shares. 'chisquare' yields
// a p-value: drift when it falls below the threshold. The statistics must be the baseline job's own output.
import { KllSketch } from '../drift/kll';
import { resolveMonitoringConfig, type Constraints, type FeatureConstraints, type ResolvedMonitoringConfig } from './constraints';
import { commonCounts, type FeatureStatistics, type InferredType, type Statistics } from './statistics';

export type BaselineDriftMethod = 'linf' | 'linf_robust' | 'chisquare';

export interface ReferenceFeature {
  name: string;
  inferredType: Exclude<InferredType, 'Unknown'>;
  kind: 'numerical' | 'categorical';
  present: number;
  missing: number;
  sketch?: KllSketch;
  categories?: { value: string; count: number }[];
  completeness?: number;
  domain?: string[];
  drift: { compare: boolean; method: BaselineDriftMethod; yields: 'distance' | 'p_value'; threshold: number };
}

export interface ModelMonitorBaseline {
  itemCount: number;
  features: ReferenceFeature[];
  skipped: { name: string; reason: string }[];
}

export function kindOf(type: InferredType): 'numerical' | 'categorical' | undefined {
  return type === 'Integral' || type === 'Fractional' ? 'numerical' : type === 'String' ? 'categorical' : undefined;
}

/** The KLL sketch in a feature's statistics, or undefined if it has none. */
export function sketchOf(feature: FeatureStatistics, file = 'statistics.json'): KllSketch | undefined {
  const sketch = feature.numerical_statistics?.distribution?.kll?.sketch;
  return sketch ? KllSketch.fromModelMonitor(sketch, `${file}: ${feature.name}: distribution.kll.sketch`) : undefined;
}

/** Category counts from a String feature's categorical buckets (a value listed twice is summed). */
export function categoryCountsOf(feature: FeatureStatistics): Map<string, number> | undefined {
  const buckets = feature.string_statistics?.distribution?.categorical?.buckets;
  if (!buckets) return undefined;
  const counts = new Map<string, number>();
  for (const bucket of buckets) counts.set(bucket.value, (counts.get(bucket.value) ?? 0) + bucket.count);
  return counts;
}

export function driftSettings(kind: 'numerical' | 'categorical', config: ResolvedMonitoringConfig): ReferenceFeature['drift'] {
  if (kind === 'categorical' && config.categoricalDriftMethod === 'ChiSquared') {
    return { compare: config.performComparison, method: 'chisquare', yields: 'p_value', threshold: config.categoricalComparisonThreshold };
  }
  return {
    compare: config.performComparison,
    method: config.robust ? 'linf_robust' : 'linf',
    yields: 'distance',
    threshold: kind === 'numerical' ? config.comparisonThreshold : config.categoricalComparisonThreshold,
  };
}

export function readModelMonitorBaseline(statistics: Statistics, constraints: Constraints): ModelMonitorBaseline {
  const constraintByName = new Map<string, FeatureConstraints>(constraints.features.map((f) => [f.name, f]));
  const features: ReferenceFeature[] = [];
  const skipped: ModelMonitorBaseline['skipped'] = [];
  for (const stats of statistics.features) {
    const kind = kindOf(stats.inferred_type);
    if (!kind) {
      skipped.push({ name: stats.name, reason: 'inferred_type is Unknown' });
      continue;
    }
    const constraint = constraintByName.get(stats.name);
    const { present, missing } = commonCounts(stats);
    const feature: ReferenceFeature = {
      name: stats.name,
      inferredType: stats.inferred_type as ReferenceFeature['inferredType'],
      kind,
      present,
      missing,
      drift: driftSettings(kind, resolveMonitoringConfig(constraints, stats.name)),
    };
    if (kind === 'numerical') {
      const sketch = sketchOf(stats);
      if (!sketch) {
        skipped.push({ name: stats.name, reason: 'no distribution.kll.sketch in the baseline statistics' });
        continue;
      }
      feature.sketch = sketch;
    } else {
      const counts = categoryCountsOf(stats);
      if (!counts) {
        skipped.push({ name: stats.name, reason: 'no distribution.categorical.buckets in the baseline statistics' });
        continue;
      }
      feature.categories = [...counts].map(([value, count]) => ({ value, count }));
    }
    if (constraint?.completeness !== undefined) feature.completeness = constraint.completeness;
    if (constraint?.string_constraints?.domains) feature.domain = [...constraint.string_constraints.domains];
    features.push(feature);
  }
  const inStatistics = new Set(statistics.features.map((f) => f.name));
  for (const constraint of constraints.features) {
    if (!inStatistics.has(constraint.name)) skipped.push({ name: constraint.name, reason: 'in constraints.json but not in the baseline statistics' });
  }
  return { itemCount: statistics.dataset.item_count, features, skipped };
}
