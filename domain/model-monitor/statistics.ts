// Model Monitor's statistics.json: what its container computes per feature for the baseline dataset and
// for every monitored window (docs: model-monitor-interpreting-statistics, model-monitor-byoc-statistics).
//
//   { version, dataset: { item_count }, features: [ { name, inferred_type, numerical_statistics | string_statistics } ] }
//
// The file, its features and their statistics blocks are loose: fields a container adds beyond the
// documented ones are kept, so a file read and written again loses nothing. Counts are plain numbers
// because the container writes some of them as doubles (`"count" : 2008.0`, `"distinct_count" : 1.0`).
import { z } from 'zod';
import { parseModelMonitorFile, writeModelMonitorFile } from './format';

export const InferredType = z.enum(['Integral', 'Fractional', 'String', 'Unknown']);
export type InferredType = z.infer<typeof InferredType>;

const count = z.number().min(0);

const CommonStatistics = z.object({
  num_present: count,
  num_missing: count,
});

// The leaf objects (counts, sketch, buckets) are plain objects so that values built in code (a KllSketch's
// toModelMonitor(), modelMonitorBuckets()) fit them as they are; keys beyond these are not kept there.
export const KllSketchSchema = z.object({
  parameters: z.object({ c: z.number().gt(0.5).lt(1), k: z.number().int().min(2) }),
  /** One array per compactor level; an item at level h stands for 2^h values. */
  data: z.array(z.array(z.number())),
});

const KllBucket = z.object({ lower_bound: z.number(), upper_bound: z.number(), count });

export const NumericalStatisticsSchema = z.looseObject({
  common: CommonStatistics,
  mean: z.number().optional(),
  sum: z.number().optional(),
  std_dev: z.number().optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  distribution: z
    .looseObject({
      kll: z.looseObject({ buckets: z.array(KllBucket).optional(), sketch: KllSketchSchema.optional() }).optional(),
    })
    .optional(),
});
export type NumericalStatistics = z.infer<typeof NumericalStatisticsSchema>;

const CategoricalBucket = z.object({ value: z.string(), count });

export const StringStatisticsSchema = z.looseObject({
  common: CommonStatistics,
  distinct_count: count.optional(),
  distribution: z
    .looseObject({ categorical: z.looseObject({ buckets: z.array(CategoricalBucket) }).optional() })
    .optional(),
});
export type StringStatistics = z.infer<typeof StringStatisticsSchema>;

export const FeatureStatisticsSchema = z
  .looseObject({
    name: z.string().min(1),
    inferred_type: InferredType,
    numerical_statistics: NumericalStatisticsSchema.optional(),
    string_statistics: StringStatisticsSchema.optional(),
  })
  .superRefine((feature, ctx) => {
    const numeric = feature.inferred_type === 'Integral' || feature.inferred_type === 'Fractional';
    if (numeric && !feature.numerical_statistics) {
      ctx.addIssue({ code: 'custom', path: ['numerical_statistics'], message: `an ${feature.inferred_type} feature needs numerical_statistics` });
    }
    if (feature.inferred_type === 'String' && !feature.string_statistics) {
      ctx.addIssue({ code: 'custom', path: ['string_statistics'], message: 'a String feature needs string_statistics' });
    }
  });
export type FeatureStatistics = z.infer<typeof FeatureStatisticsSchema>;

export const StatisticsSchema = z
  .looseObject({
    version: z.number().optional(),
    dataset: z.looseObject({ item_count: count }),
    features: z.array(FeatureStatisticsSchema),
  })
  .superRefine((statistics, ctx) => {
    const seen = new Set<string>();
    statistics.features.forEach((feature, i) => {
      if (seen.has(feature.name)) ctx.addIssue({ code: 'custom', path: ['features', i, 'name'], message: `duplicate feature name "${feature.name}"` });
      seen.add(feature.name);
    });
  });
export type Statistics = z.infer<typeof StatisticsSchema>;

export function parseStatistics(input: unknown, file = 'statistics.json'): Statistics {
  return parseModelMonitorFile(StatisticsSchema, input, file);
}

export function writeStatistics(statistics: Statistics, file = 'statistics.json'): string {
  return writeModelMonitorFile(StatisticsSchema, statistics, file);
}

/** The present/missing counts whichever statistics block the feature carries. */
export function commonCounts(feature: FeatureStatistics): { present: number; missing: number } {
  const common = feature.numerical_statistics?.common ?? feature.string_statistics?.common;
  return { present: common?.num_present ?? 0, missing: common?.num_missing ?? 0 };
}
