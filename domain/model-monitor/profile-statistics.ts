// A drift profile (domain/drift/profile.ts) as Model Monitor's statistics.json: the one writer of a window's
// (or a dataset baseline's) statistics, so the drift stage's files read like the container's and
// `runModelMonitorChecks` can take them as they are.
//   - numerical features: num_present/num_missing, mean, sum, std_dev (population), min, max, and
//     distribution.kll: the 10 buckets (./buckets.ts) plus the KLL sketch (k = 2048, c = 0.64). Bucket
//     counts are exact while the profile kept its values or distinct counts, the sketch's estimates after.
//     inferred_type is Integral when every value was a whole number, else Fractional.
//   - categorical features: inferred_type String, distinct_count and distribution.categorical buckets,
//     most frequent first. A category pooled past the profile's cap is not listed (its values still count
//     as present).
// A feature with no present values carries only `common`.
import type { DatasetProfile } from '../drift/profile';
import { weightedSampleOf } from '../drift/samples';
import { modelMonitorBuckets } from './buckets';
import type { FeatureStatistics, Statistics } from './statistics';

export function modelMonitorStatistics(dataset: DatasetProfile): Statistics {
  const features: FeatureStatistics[] = [];
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
        distribution: {
          kll: {
            buckets: modelMonitorBuckets(weightedSampleOf(profile, 'statistics.json', 'profiled'), profile.min, profile.max),
            sketch: profile.sketch().toModelMonitor(),
          },
        },
      },
    });
  }
  return { version: 0, dataset: { item_count: dataset.rows }, features };
}
