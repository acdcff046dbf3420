// JSON Lines: one object per line, its fields named by dataset.input.fields (by default the schema's
// own names). Fields the plan does not name are ignored: records often carry ids and notes.
import type { DatasetSchema } from '../config';
import { featuresFromJson, keyFromJson, timeFromJson, type FieldPlan } from './fields';
import type { LabelledRecord } from './index';
import { describeJson, fieldAt, isPlainObject, parseJson } from './json';
import { labelFromJson } from './label';
import { reject, type Outcome } from './line';

/** The line as a JSON object, or why not; shared with the manifest reader. */
export function jsonObjectLine(text: string): Outcome<Record<string, unknown>> {
  const parsed = parseJson(text);
  if (!parsed.ok) return parsed;
  const value = parsed.value;
  if (!isPlainObject(value)) return reject('not_an_object', `the line is ${describeJson(value)}, expected one JSON object per line`);
  if (isEmpty(value)) return reject('empty_record', 'the line is an empty object {}: no label, no features');
  return { ok: true, value };
}

function isEmpty(record: Record<string, unknown>): boolean {
  for (const key in record) if (Object.hasOwn(record, key)) return false;
  return true;
}

/** Key and time, when the plan names them. */
export function keyAndTime(record: Record<string, unknown>, plan: FieldPlan): Outcome<{ key?: string; time?: string }> {
  const out: { key?: string; time?: string } = {};
  if (plan.key) {
    const key = keyFromJson(record, plan.key);
    if (!key.ok) return key;
    out.key = key.value;
  }
  if (plan.time) {
    const time = timeFromJson(fieldAt(record, plan.time.path), `field "${plan.time.name}" (the time)`);
    if (!time.ok) return time;
    out.time = time.value;
  }
  return { ok: true, value: out };
}

export function readJsonLine(text: string, schema: DatasetSchema, plan: FieldPlan): Outcome<Omit<LabelledRecord, 'source'>> {
  const object = jsonObjectLine(text);
  if (!object.ok) return object;
  const record = object.value;
  const label = labelFromJson(fieldAt(record, plan.label.path), plan.where.jsonLabel, schema, true);
  if (!label.ok) return label;
  const features = featuresFromJson(record, plan, schema);
  if (!features.ok) return features;
  const extras = keyAndTime(record, plan);
  if (!extras.ok) return extras;
  return { ok: true, value: { features: features.value, label: label.value, ...extras.value } };
}
