// Model Monitor's constraints.json: per-feature constraints suggested by the baseline job (and often edited
// by hand), plus the monitoring config that says which checks run and with which thresholds
// (docs: model-monitor-byoc-constraints).
//
// Two spellings of comparison_method exist in AWS's own material: the schema shows "Simple" | "Robust"
// (what baseline jobs write), the table beside it lists "linf_simple" | "linf_robust". Both are accepted
// and kept as written; `resolveMonitoringConfig` maps them to one meaning.
import { z } from 'zod';
import { parseModelMonitorFile, writeModelMonitorFile } from './format';
import { InferredType } from './statistics';

const Toggle = z.enum(['Enabled', 'Disabled']);

const DistributionConstraintsSchema = z.looseObject({
  perform_comparison: Toggle.optional(),
  comparison_threshold: z.number().min(0).optional(),
  comparison_method: z.enum(['Robust', 'Simple', 'linf_robust', 'linf_simple']).optional(),
  categorical_comparison_threshold: z.number().min(0).optional(),
  categorical_drift_method: z.enum(['LInfinity', 'ChiSquared']).optional(),
});

export const MonitoringConfigSchema = z.looseObject({
  evaluate_constraints: Toggle.optional(),
  emit_metrics: Toggle.optional(),
  datatype_check_threshold: z.number().min(0).max(1).optional(),
  domain_content_threshold: z.number().min(0).max(1).optional(),
  distribution_constraints: DistributionConstraintsSchema.optional(),
});
export type MonitoringConfig = z.infer<typeof MonitoringConfigSchema>;

export const FeatureConstraintsSchema = z.looseObject({
  name: z.string().min(1),
  inferred_type: InferredType,
  /** The share (0..1) of non-null values the feature must keep. */
  completeness: z.number().min(0).max(1).optional(),
  num_constraints: z.looseObject({ is_non_negative: z.boolean().optional() }).optional(),
  string_constraints: z.looseObject({ domains: z.array(z.string()).optional() }).optional(),
  /** Same keys as monitoring_config, for this feature only. */
  monitoringConfigOverrides: MonitoringConfigSchema.optional(),
});
export type FeatureConstraints = z.infer<typeof FeatureConstraintsSchema>;

export const ConstraintsSchema = z
  .looseObject({
    version: z.number().optional(),
    features: z.array(FeatureConstraintsSchema),
    monitoring_config: MonitoringConfigSchema.optional(),
  })
  .superRefine((constraints, ctx) => {
    const seen = new Set<string>();
    constraints.features.forEach((feature, i) => {
      if (seen.has(feature.name)) ctx.addIssue({ code: 'custom', path: ['features', i, 'name'], message: `duplicate feature name "${feature.name}"` });
      seen.add(feature.name);
    });
  });
export type Constraints = z.infer<typeof ConstraintsSchema>;

export function parseConstraints(input: unknown, file = 'constraints.json'): Constraints {
  return parseModelMonitorFile(ConstraintsSchema, input, file);
}

export function writeConstraints(constraints: Constraints, file = 'constraints.json'): string {
  return writeModelMonitorFile(ConstraintsSchema, constraints, file);
}

/** Every setting decided: the file's values, a feature's overrides on top, the documented defaults below. */
export interface ResolvedMonitoringConfig {
  evaluateConstraints: boolean;
  emitMetrics: boolean;
  /** Share of values that must have the baseline's type (1.0 = all; a baseline job writes 1.0). */
  datatypeCheckThreshold: number;
  /** Share of a String feature's values that must lie in the baseline's domain. */
  domainContentThreshold: number;
  performComparison: boolean;
  /** Numerical features: drift when the distance exceeds it. */
  comparisonThreshold: number;
  /** Subtract the small-sample allowance from L-infinity distances (Model Monitor's "Robust"). */
  robust: boolean;
  /** Categorical features: the distance (LInfinity) or p-value (ChiSquared) threshold. */
  categoricalComparisonThreshold: number;
  categoricalDriftMethod: 'LInfinity' | 'ChiSquared';
}

// The defaults the constraints page documents. A baseline job writes its own values into the file
// (datatype/domain thresholds 1.0, comparison_method "Robust"), so these apply to hand-written files.
export const DOCUMENTED_DEFAULTS = {
  datatypeCheckThreshold: 0.1,
  domainContentThreshold: 0.1,
  comparisonThreshold: 0.1,
  comparisonMethod: 'Robust',
  categoricalDriftMethod: 'LInfinity',
} as const;

export function resolveMonitoringConfig(constraints: Constraints, featureName?: string): ResolvedMonitoringConfig {
  const base = constraints.monitoring_config ?? {};
  const override = featureName === undefined ? {} : (constraints.features.find((f) => f.name === featureName)?.monitoringConfigOverrides ?? {});
  const pick = <K extends keyof MonitoringConfig>(key: K): MonitoringConfig[K] => override[key] ?? base[key];
  const distribution = { ...base.distribution_constraints, ...override.distribution_constraints };
  const comparisonThreshold = distribution.comparison_threshold ?? DOCUMENTED_DEFAULTS.comparisonThreshold;
  const method = distribution.comparison_method ?? DOCUMENTED_DEFAULTS.comparisonMethod;
  return {
    evaluateConstraints: (pick('evaluate_constraints') ?? 'Enabled') === 'Enabled',
    emitMetrics: (pick('emit_metrics') ?? 'Enabled') === 'Enabled',
    datatypeCheckThreshold: pick('datatype_check_threshold') ?? DOCUMENTED_DEFAULTS.datatypeCheckThreshold,
    domainContentThreshold: pick('domain_content_threshold') ?? DOCUMENTED_DEFAULTS.domainContentThreshold,
    performComparison: (distribution.perform_comparison ?? 'Enabled') === 'Enabled',
    comparisonThreshold,
    robust: method === 'Robust' || method === 'linf_robust',
    // Documented: "Default: the value assigned to the comparison_threshold parameter".
    categoricalComparisonThreshold: distribution.categorical_comparison_threshold ?? comparisonThreshold,
    categoricalDriftMethod: distribution.categorical_drift_method ?? DOCUMENTED_DEFAULTS.categoricalDriftMethod,
  };
}
