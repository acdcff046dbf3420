// A dataset profile as SageMaker Model Monitor's statistics.json (the schema in "Schema for Statistics
// (statistics.json file)", SageMaker developer guide), so a drift window can be compared with Model
// Monitor's own baselines and executions.
//   - numerical features: num_present/num_missing, mean, sum, std_dev (population), min, max, and
//     distribution.kll: 10 equal-width buckets between min and max plus the KLL sketch (k = 2048,
//     c = 0.64). Buckets follow Deequ's KLLSketch analyzer, which Model Monitor's container runs: bucket i
//     counts values in [low, high), the last one [low, high]. Counts are exact while the profile kept its
//     values or distinct counts, the sketch's estimates after.
//   - categorical features: inferred_type "String", distinct_count and distribution.categorical buckets.
//     A category pooled past the profile's cap is not listed (its values still count as present).
// A feature with no present values carries only `common`.
import type { KllSketchJson } from './kll';
import type { DatasetProfile, NumericalProfile } from './profile';
import { weightedSampleOf } from './samples';

export const MODEL_MONITOR_BUCKETS = 10;

export interface ModelMonitorCommon {
  num_present: number;
  num_missing: number;
}

export interface ModelMonitorNumericalFeature {
  name: string;
  inferred_type: 'Fractional' | 'Integral';
  numerical_statistics: {
    common: ModelMonitorCommon;
    mean?: number;
    sum?: number;
    std_dev?: number;
    min?: number;
    max?: number;
    distribution?: { kll: { buckets: { lower_bound: number; upper_bound: number; count: number }[]; sketch: KllSketchJson } };
  };
}

export interface ModelMonitorStringFeature {
  name: string;
  inferred_type: 'String';
  string_statistics: {
    common: ModelMonitorCommon;
    distinct_count: number;
    distribution: { categorical: { buckets: { value: string; count: number }[] } };
  };
}

export interface ModelMonitorStatistics {
  version: 0;
  dataset: { item_count: number };
  features: (ModelMonitorNumericalFeature | ModelMonitorStringFeature)[];
}

function kllBuckets(profile: NumericalProfile): { lower_bound: number; upper_bound: number; count: number }[] {
  const sample = weightedSampleOf(profile, 'statistics.json', 'profiled');
  const below = (x: number, inclusive: boolean): number => {
    let n = 0;
    for (let i = 0; i < sample.values.length; i++) {
      const v = sample.values[i]!;
      if (v < x || (inclusive && v === x)) n += sample.weights[i]!;
      else break;
    }
    return n;
  };
  const { min, max } = profile;
  const buckets = [];
  for (let i = 0; i < MODEL_MONITOR_BUCKETS; i++) {
    const low = min + ((max - min) * i) / MODEL_MONITOR_BUCKETS;
    const high = min + ((max - min) * (i + 1)) / MODEL_MONITOR_BUCKETS;
    const last = i === MODEL_MONITOR_BUCKETS - 1;
    buckets.push({ lower_bound: low, upper_bound: high, count: below(high, last) - below(low, false) });
  }
  return buckets;
}

export function modelMonitorStatistics(dataset: DatasetProfile): ModelMonitorStatistics {
  const features: ModelMonitorStatistics['features'] = [];
  for (const [name, profile] of dataset.features) {
    const common = { num_present: profile.count, num_missing: profile.missing };
    if (profile.kind === 'categorical') {
      const buckets = [...profile.counts()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([value, count]) => ({ value, count }));
      features.push({ name, inferred_type: 'String', string_statistics: { common, distinct_count: buckets.length, distribution: { categorical: { buckets } } } });
      continue;
    }
    const inferred_type = profile.integral ? 'Integral' : 'Fractional';
    if (profile.count === 0) {
      features.push({ name, inferred_type, numerical_statistics: { common } });
      continue;
    }
    features.push({
      name,
      inferred_type,
      numerical_statistics: {
        common,
        mean: profile.mean,
        sum: profile.sum,
        std_dev: profile.std,
        min: profile.min,
        max: profile.max,
        distribution: { kll: { buckets: kllBuckets(profile), sketch: profile.sketch().toModelMonitor() } },
      },
    });
  }
  return { version: 0, dataset: { item_count: dataset.rows }, features };
}
