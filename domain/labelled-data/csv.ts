// Headerless CSV, label first: the built-in algorithms' own convention. No quoting (the algorithms
// have none either); fields are trimmed.
import type { DatasetSchema } from '../config';
import { featuresFromCsvFields, type FieldPlan } from './fields';
import type { LabelledRecord } from './index';
import { labelFromText } from './label';
import { reject, type Outcome } from './line';

export function readCsvLine(text: string, schema: DatasetSchema, plan: FieldPlan): Outcome<Omit<LabelledRecord, 'source'>> {
  const fields = text.split(',');
  const count = schema.features.length;
  if (fields.length !== count + 1) {
    const expected = `expected ${count + 1} columns (label + ${count} features), got ${fields.length}`;
    if (fields.length > count + 1) {
      const extra = fields.slice(count + 1).join(',');
      return reject('wrong_width', `${expected}: column ${count + 2} onwards is extra (${JSON.stringify(extra.length > 40 ? `${extra.slice(0, 40)}…` : extra)})`);
    }
    const firstMissing = Math.max(fields.length - 1, 0);
    return reject('wrong_width', `${expected}: column ${fields.length + 1} onwards (feature "${schema.features[firstMissing]!.name}" on) is missing`);
  }
  const label = labelFromText(fields[0]!.trim(), plan.where.csvLabel, schema, true);
  if (!label.ok) return label;
  const features = featuresFromCsvFields(fields, 1, schema, plan.where.csvFeatures);
  if (!features.ok) return features;
  return { ok: true, value: { features: features.value, label: label.value } };
}

/**
 * The fast path for the common line: label and features all plain decimals already in the shortest
 * round-trip form that String(number) writes (no sign but a leading minus, no leading or trailing
 * zeros, no exponent, no "-0", at most 15 significant digits, at most 5 zeros after "0."), ASCII only,
 * nothing else on the line. For such a line String(Number(field)) === field for every field (a decimal
 * of at most 15 significant digits is the only one of its length that rounds to its double), so the
 * features' canonical text is the line's own text after the label, and no number needs parsing or
 * printing. Returns the index of the comma after the label, or -1 when the line is anything else: the
 * caller then reads it the full way, which also finds what is wrong with it.
 */
export function canonicalCsvRow(bytes: Uint8Array, width: number): number {
  const end = bytes.length;
  let i = 0;
  let fields = 0;
  let firstComma = -1;
  for (;;) {
    let c = bytes[i];
    const negative = c === 0x2d;
    if (negative) c = bytes[++i];
    let significant: number;
    let zero = false;
    if (c === 0x30) {
      zero = true;
      significant = 0;
      c = bytes[++i];
    } else if (c !== undefined && c >= 0x31 && c <= 0x39) {
      const from = i;
      do c = bytes[++i];
      while (c !== undefined && c >= 0x30 && c <= 0x39);
      significant = i - from;
    } else return -1;
    if (c === 0x2e) {
      const from = ++i;
      c = bytes[i];
      let leadingZeros = 0;
      if (zero) {
        while (c === 0x30) c = bytes[++i];
        leadingZeros = i - from;
        if (leadingZeros > 5) return -1;
      }
      while (c !== undefined && c >= 0x30 && c <= 0x39) c = bytes[++i];
      if (i === from || bytes[i - 1] === 0x30) return -1;
      significant += i - from - leadingZeros;
    } else if (zero && negative) return -1;
    if (significant > 15) return -1;
    fields++;
    if (i === end) break;
    if (c !== 0x2c) return -1;
    if (firstComma < 0) firstComma = i;
    i++;
  }
  return fields === width ? firstComma : -1;
}
