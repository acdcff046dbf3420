// Features, key and time out of a parsed line, and where each is looked for: the options resolved
// against the schema once, not per line.
import type { DatasetSchema } from '../config';
import { describeJson, fieldAt, splitPath } from './json';
import { reject, type Outcome, type Rejection } from './line';
import type { LabelledDataOptions } from './options';
import { parseDecimal, parseIsoTime } from './values';

export interface FieldRef {
  path: string[];
  /** As configured, for reasons. */
  name: string;
}

export interface FieldPlan {
  label: FieldRef;
  features: { kind: 'array'; field: FieldRef } | { kind: 'fields'; fields: FieldRef[] };
  key?: FieldRef;
  time?: FieldRef;
  /** Where each value is, as reasons name it; built once here so a line that reads cleanly builds no strings. */
  where: {
    jsonLabel: string;
    /** A manifest's label attribute and its metadata object. */
    attribute: string;
    metadata: string;
    jsonFeatures: string[];
    csvLabel: string;
    csvFeatures: string[];
    sourceFeatures: string[];
  };
  categorical: boolean[];
}

const ref = (name: string): FieldRef => ({ path: splitPath(name), name });

const plans = new WeakMap<LabelledDataOptions, WeakMap<DatasetSchema, FieldPlan>>();

/** Where each value is, for these options and schema (cached: options and schema are the config's own objects). */
export function fieldPlan(options: LabelledDataOptions, schema: DatasetSchema): FieldPlan {
  let bySchema = plans.get(options);
  if (!bySchema) plans.set(options, (bySchema = new WeakMap()));
  let plan = bySchema.get(schema);
  if (plan) return plan;
  const { fields } = options;
  const features = fields.features;
  const label = ref(fields.label ?? schema.label.name);
  const names = schema.features.map((f) => f.name);
  const featureFields = typeof features === 'string' ? null : names.map((name) => ref(features?.[name] ?? name));
  plan = {
    label,
    features: featureFields ? { kind: 'fields', fields: featureFields } : { kind: 'array', field: ref(features as string) },
    where: {
      jsonLabel: `field "${label.name}" (the label)`,
      attribute: `label attribute "${label.name}"`,
      metadata: `${label.name}-metadata`,
      jsonFeatures: featureFields
        ? featureFields.map((field, i) => (field.name === names[i] ? `field "${field.name}"` : `field "${field.name}" (feature "${names[i]}")`))
        : names.map((name, i) => `${features as string}[${i}] (feature "${name}")`),
      csvLabel: `column 1 (label "${schema.label.name}")`,
      csvFeatures: names.map((name, i) => `column ${i + 2} (feature "${name}")`),
      sourceFeatures: names.map((name, i) => `"source" column ${i + 1} (feature "${name}")`),
    },
    categorical: schema.features.map((f) => f.type === 'categorical'),
  };
  if (fields.key !== undefined) plan.key = ref(fields.key);
  if (fields.time !== undefined) plan.time = ref(fields.time);
  bySchema.set(schema, plan);
  return plan;
}

/** Why a JSON feature value that is not a finite number is refused. */
function badFeature(value: unknown, where: string, categorical: boolean): Rejection {
  if (typeof value === 'number') return reject('not_a_number', `${where} is too large for a double, not a finite number`);
  if (value === undefined) return reject('missing_value', `${where} is missing`);
  if (value === null) return reject('missing_value', `${where} is null`);
  const hint = categorical && typeof value === 'string' ? ' (a categorical feature needs its numeric code)' : '';
  return reject('wrong_type', `${where} is ${describeJson(value)}, expected a number${hint}`);
}

/** Features from JSON fields, in schema order. */
export function featuresFromJson(record: Record<string, unknown>, plan: FieldPlan, schema: DatasetSchema): Outcome<number[]> {
  const count = schema.features.length;
  const where = plan.where.jsonFeatures;
  const out: number[] = new Array(count);
  if (plan.features.kind === 'array') {
    const { field } = plan.features;
    const values = fieldAt(record, field.path);
    if (values === undefined || values === null) return reject('missing_value', `field "${field.name}" (the features) is ${values === null ? 'null' : 'missing'}`);
    if (!Array.isArray(values)) return reject('wrong_type', `field "${field.name}" is ${describeJson(values)}, expected an array of ${count} numbers`);
    if (values.length !== count) {
      return reject('wrong_width', `field "${field.name}" has ${values.length} values, expected ${count} (${schema.features.map((f) => f.name).join(', ')})`);
    }
    for (let i = 0; i < count; i++) {
      const value = values[i];
      if (typeof value === 'number' && Number.isFinite(value)) out[i] = value;
      else return badFeature(value, where[i]!, plan.categorical[i]!);
    }
    return { ok: true, value: out };
  }
  const { fields } = plan.features;
  for (let i = 0; i < count; i++) {
    const field = fields[i]!;
    const value = field.path.length === 1 ? (Object.hasOwn(record, field.name) ? record[field.name] : undefined) : fieldAt(record, field.path);
    if (typeof value === 'number' && Number.isFinite(value)) out[i] = value;
    else return badFeature(value, where[i]!, plan.categorical[i]!);
  }
  return { ok: true, value: out };
}

/**
 * Features from CSV text fields (a CSV line after its label, or a manifest's `source`), in schema order;
 * `where[i]` names feature i's position for the reason.
 */
export function featuresFromCsvFields(fields: readonly string[], first: number, schema: DatasetSchema, where: readonly string[]): Outcome<number[]> {
  const count = schema.features.length;
  const out: number[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const text = fields[first + i]!.trim();
    const value = parseDecimal(text);
    if (value !== null) {
      out[i] = value;
      continue;
    }
    if (text === '') return reject('missing_value', `${where[i]} is empty`);
    return reject('not_a_number', `${where[i]} is ${JSON.stringify(text)}, not a finite decimal number`);
  }
  return { ok: true, value: out };
}

/** The de-duplication key: a non-empty string, or a number in its shortest form. */
export function keyFromJson(record: Record<string, unknown>, field: FieldRef): Outcome<string> {
  const value = fieldAt(record, field.path);
  if (value === undefined || value === null || value === '') {
    return reject('missing_key', `field "${field.name}" (the de-duplication key) is ${value === undefined ? 'missing' : value === null ? 'null' : 'empty'}`);
  }
  if (typeof value === 'string') return { ok: true, value };
  if (typeof value === 'number' && Number.isFinite(value)) return { ok: true, value: String(value) };
  return reject('wrong_type', `field "${field.name}" (the de-duplication key) is ${describeJson(value)}, expected a string or number`);
}

export function timeFromJson(value: unknown, where: string): Outcome<string> {
  if (value === undefined || value === null) return reject('bad_time', `${where} is ${value === null ? 'null' : 'missing'}`);
  if (typeof value !== 'string') return reject('bad_time', `${where} is ${describeJson(value)}, expected an ISO 8601 time string`);
  const time = parseIsoTime(value);
  return time === null ? reject('bad_time', `${where} is ${JSON.stringify(value)}, not an ISO 8601 time`) : { ok: true, value: time };
}
