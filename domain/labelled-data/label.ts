// A label, from whatever form the input gives it, as the class index or regression target the
// built-in algorithms read. `where` names the value in the reason ("column 1 (label \"churned\")").
import type { DatasetSchema } from '../config';
import { describeJson } from './json';
import { reject, type Outcome } from './line';
import { parseDecimal } from './values';

function classList(schema: DatasetSchema): string {
  const names = schema.label.classNames;
  return names ? ` (${names.map((n, i) => `${i} ${n}`).join(', ')})` : '';
}

export function labelFromNumber(value: number, where: string, schema: DatasetSchema): Outcome<number> {
  if (!Number.isFinite(value)) return reject('bad_label', `${where} is too large for a double, not a finite number`);
  const classes = schema.label.classes;
  if (classes !== undefined && (!Number.isInteger(value) || value < 0 || value >= classes)) {
    return reject('bad_label', `${where} is ${value}, not a class in 0..${classes - 1}${classList(schema)}`);
  }
  return { ok: true, value };
}

/**
 * Label text: a class the schema names (when `byName` and the schema lists classNames), else a strict
 * decimal. A name wins over a number, so classes named "1".."5" (star ratings) read as names.
 */
export function labelFromText(text: string, where: string, schema: DatasetSchema, byName: boolean): Outcome<number> {
  if (text === '') return reject('missing_label', `${where} is empty`);
  const names = byName ? schema.label.classNames : undefined;
  const index = names ? names.indexOf(text) : -1;
  if (index >= 0) return { ok: true, value: index };
  const value = parseDecimal(text);
  if (value !== null) return labelFromNumber(value, where, schema);
  if (names) return reject('unknown_class', `${where} is ${JSON.stringify(text)}, not one of the schema's classes: ${names.join(', ')}`);
  const hint = byName && schema.label.classes !== undefined ? ' (to give classes by name, list them in dataset.schema.label.classNames)' : '';
  return reject('bad_label', `${where} is ${JSON.stringify(text)}, not a finite number${hint}`);
}

/** A label given as a JSON value: a number, a class name or numeric string, or true/false for two classes. */
export function labelFromJson(value: unknown, where: string, schema: DatasetSchema, byName: boolean): Outcome<number> {
  if (value === undefined) return reject('missing_label', `${where} is missing`);
  if (value === null) return reject('missing_label', `${where} is null`);
  if (typeof value === 'number') return labelFromNumber(value, where, schema);
  if (typeof value === 'string') return labelFromText(value.trim(), where, schema, byName);
  if (typeof value === 'boolean') {
    if (schema.label.classes === 2) return { ok: true, value: value ? 1 : 0 };
    return reject('wrong_type', `${where} is ${value}; true/false is read as 1/0 only for a label with 2 classes`);
  }
  return reject('wrong_type', `${where} is ${describeJson(value)}, expected a number${schema.label.classNames ? ' or a class name' : ''}`);
}
