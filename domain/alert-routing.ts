// Which model an alert retrains: one file an operator writes, with every model's pipeline config and the
// alarms, monitoring schedules and endpoints that point at each. Pure and unit-tested; the receiver loads
// it once at start, so a bad file fails there, naming each bad field by path.
import { z } from 'zod';
import { formatPath, InvalidConfigError, PipelineConfigSchema, type PipelineConfig, type PipelineConfigInput } from './config';
import type { Alert, AlertSubject } from './alerts';

const alarmRoute = z
  .object({
    /** The model (a key of `models`) this alarm retrains. */
    model: z.string().min(1),
    /** The alarm's exact name. */
    name: z.string().min(1).optional(),
    /** The alarm's exact ARN (arn:aws:cloudwatch:<region>:<account>:alarm:<name>). */
    arn: z.string().regex(/^arn:aws[a-z-]*:cloudwatch:[a-z0-9-]+:\d{12}:alarm:.+$/, 'must be a CloudWatch alarm ARN').optional(),
    /** Every alarm whose name starts with this; the longest matching prefix wins. */
    namePrefix: z.string().min(1).optional(),
  })
  .strict()
  .refine((r) => [r.name, r.arn, r.namePrefix].filter((v) => v !== undefined).length === 1, { message: 'give exactly one of name, arn or namePrefix' });

export const AlertRoutingSchema = z
  .object({
    /** Each model's pipeline config, keyed by its `model` name. */
    models: z.record(z.string().min(1), z.unknown()),
    routes: z
      .object({
        alarms: z.array(alarmRoute).default([]),
        /** Monitoring schedule name → model. */
        monitoringSchedules: z.record(z.string().min(1), z.string().min(1)).default({}),
        /** Endpoint name → model; a model's own `endpoint.name` needs no entry. */
        endpoints: z.record(z.string().min(1), z.string().min(1)).default({}),
      })
      .strict()
      .default({ alarms: [], monitoringSchedules: {}, endpoints: {} }),
  })
  .strict();

export type AlertRoutingInput = z.input<typeof AlertRoutingSchema>;

export interface RoutedModel {
  /** The config as written: what the workflow receives (it validates it again). */
  input: PipelineConfigInput & { model: string; endpoint: { name: string } };
  config: PipelineConfig;
}

export interface AlertRouting {
  models: Record<string, RoutedModel>;
  alarms: { model: string; name?: string; arn?: string; namePrefix?: string }[];
  monitoringSchedules: Record<string, string>;
  /** Explicit routes first, then each model's own endpoint. */
  endpoints: Record<string, string>;
}

/** Validates a routing file. Throws InvalidConfigError listing every bad field by path. */
export function parseAlertRouting(input: unknown, where = 'alert routing'): AlertRouting {
  const parsed = AlertRoutingSchema.safeParse(input);
  if (!parsed.success) throw new InvalidConfigError(parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })), where);
  const { models: rawModels, routes } = parsed.data;
  const issues: { path: string; message: string }[] = [];
  const models: Record<string, RoutedModel> = {};
  const ownEndpoints: Record<string, string> = {};
  for (const [key, raw] of Object.entries(rawModels)) {
    const config = PipelineConfigSchema.safeParse(raw);
    if (!config.success) {
      for (const i of config.error.issues) issues.push({ path: formatPath(['models', key, ...i.path]), message: i.message });
      continue;
    }
    if (config.data.model !== key) {
      issues.push({ path: `models.${key}.model`, message: `is "${config.data.model}"; a model is keyed by its own name, so it must be "${key}"` });
      continue;
    }
    models[key] = { input: raw as RoutedModel['input'], config: config.data };
    const endpoint = config.data.endpoint.name;
    if (ownEndpoints[endpoint] && !routes.endpoints[endpoint]) {
      issues.push({ path: `models.${key}.endpoint.name`, message: `endpoint ${endpoint} also serves model ${ownEndpoints[endpoint]}: say which one its alerts retrain in routes.endpoints` });
    }
    ownEndpoints[endpoint] ??= key;
  }
  const known = Object.keys(rawModels);
  const checkModel = (model: string, path: string) => {
    if (!known.includes(model)) issues.push({ path, message: `no model "${model}" in models (it has: ${known.join(', ') || 'none'})` });
  };
  routes.alarms.forEach((r, i) => checkModel(r.model, `routes.alarms[${i}].model`));
  for (const [schedule, model] of Object.entries(routes.monitoringSchedules)) checkModel(model, `routes.monitoringSchedules.${schedule}`);
  for (const [endpoint, model] of Object.entries(routes.endpoints)) checkModel(model, `routes.endpoints.${endpoint}`);
  if (issues.length) throw new InvalidConfigError(issues, where);
  return { models, alarms: routes.alarms, monitoringSchedules: routes.monitoringSchedules, endpoints: { ...ownEndpoints, ...routes.endpoints } };
}

export type AlertRoute = { mapped: true; model: RoutedModel; via: string } | { mapped: false; error: string };

/**
 * The model an alert retrains. An alarm goes by its ARN, its name, then the longest name prefix; an alarm
 * on Model Monitor's drift metric, or a monitoring execution, then by its monitoring schedule, then by its
 * endpoint. Unmapped, the answer says what was looked for.
 */
export function routeAlert(routing: AlertRouting, alert: Pick<Alert, 'subject'> & { record: { kind: Alert['record']['kind'] } }): AlertRoute {
  const s: AlertSubject = alert.subject;
  const found = (model: string, via: string): AlertRoute => ({ mapped: true, model: routing.models[model]!, via });
  if (alert.record.kind === 'alarm') {
    const byArn = s.alarmArn ? routing.alarms.find((r) => r.arn === s.alarmArn) : undefined;
    if (byArn) return found(byArn.model, `alarm ARN ${s.alarmArn}`);
    const byName = routing.alarms.find((r) => r.name === s.alarmName);
    if (byName) return found(byName.model, `alarm name ${s.alarmName}`);
    const byPrefix = routing.alarms
      .filter((r) => r.namePrefix !== undefined && s.alarmName?.startsWith(r.namePrefix))
      .sort((a, b) => b.namePrefix!.length - a.namePrefix!.length)[0];
    if (byPrefix) return found(byPrefix.model, `alarm name prefix ${byPrefix.namePrefix}`);
  }
  if (s.monitoringSchedule && routing.monitoringSchedules[s.monitoringSchedule]) return found(routing.monitoringSchedules[s.monitoringSchedule]!, `monitoring schedule ${s.monitoringSchedule}`);
  if (s.endpoint && routing.endpoints[s.endpoint]) return found(routing.endpoints[s.endpoint]!, `endpoint ${s.endpoint}`);

  if (alert.record.kind === 'alarm') {
    const onDriftMetric = s.monitoringSchedule !== undefined || s.endpoint !== undefined;
    return {
      mapped: false,
      error:
        `alarm ${s.alarmName}${s.alarmArn ? ` (${s.alarmArn})` : ''} is not mapped to a model: no routes.alarms entry matches its name or ARN` +
        (onDriftMetric
          ? `, and neither its monitoring schedule ${s.monitoringSchedule ?? '(none)'} nor its endpoint ${s.endpoint ?? '(none)'} is routed`
          : ` (its metrics ${s.metrics?.length ? s.metrics.join(', ') : '(none)'} are not Model Monitor's feature_baseline_drift_* with an EndpointName or ScheduleName dimension, so it cannot route by those)`),
    };
  }
  return {
    mapped: false,
    error: `monitoring schedule ${s.monitoringSchedule} is not mapped to a model: no routes.monitoringSchedules entry names it, and its endpoint ${s.endpoint ?? '(not in the execution\'s environment)'} is neither in routes.endpoints nor any model's endpoint.name`,
  };
}
