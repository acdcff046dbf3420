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
