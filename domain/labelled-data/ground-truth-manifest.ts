// SageMaker Ground Truth output manifests (augmented-manifest JSON Lines). Each line is the input
// manifest's line plus the label attribute and `<attribute>-metadata`:
//   {"source": "...", "mood": 1, "mood-metadata": {"class-name": "positive", "confidence": 0.8,
//    "type": "groundtruth/text-classification", "job-name": "labeling-job/label-sentiment",
//    "human-annotated": "yes", "creation-date": "2020-10-18T22:18:13.527256"}}
// Ground Truth writes the label as a number or a numeric string, and the class-name beside it. The
// features are either JSON fields carried on the line (the input manifest's own keys pass through to
// the output unchanged) or a CSV row in `source` (featuresFrom: "source").
import type { DatasetSchema } from '../config';
import { featuresFromCsvFields, featuresFromJson, timeFromJson, type FieldPlan } from './fields';
import type { LabelledRecord } from './index';
import { describeJson, isPlainObject } from './json';
import { jsonObjectLine, keyAndTime } from './jsonl';
import { labelFromJson } from './label';
import { reject, type Outcome } from './line';
import type { LabelQuality, LabelledDataOptions } from './options';

const JOB_PREFIX = 'labeling-job/';

function fieldList(record: Record<string, unknown>): string {
  const keys = Object.keys(record);
  const shown = keys.slice(0, 8).map((k) => JSON.stringify(k));
  return `${shown.join(', ')}${keys.length > 8 ? `, and ${keys.length - 8} more` : ''}`;
}

interface Metadata {
  className?: string;
  confidence?: number;
  humanAnnotated?: 'yes' | 'no';
  jobName?: string;
  creationDate?: string;
  type?: string;
}

/** The metadata fields this reader uses, each type-checked; fields it does not use are left alone. */
function readMetadata(meta: Record<string, unknown>, name: string): Outcome<Metadata> {
  const out: Metadata = {};
  const text = (key: string): Outcome<string | undefined> => {
    const v = meta[key];
    if (v === undefined) return { ok: true, value: undefined };
    return typeof v === 'string' ? { ok: true, value: v } : reject('wrong_type', `"${name}"."${key}" is ${describeJson(v)}, expected a string`);
  };
  const confidence = meta.confidence;
  if (confidence !== undefined) {
    if (typeof confidence !== 'number') return reject('wrong_type', `"${name}"."confidence" is ${describeJson(confidence)}, expected a number`);
    out.confidence = confidence;
  }
  const human = meta['human-annotated'];
  if (human !== undefined) {
    if (human !== 'yes' && human !== 'no') return reject('wrong_type', `"${name}"."human-annotated" is ${describeJson(human)}, expected "yes" or "no"`);
    out.humanAnnotated = human;
  }
  for (const [key, field] of [['class-name', 'className'], ['job-name', 'jobName'], ['creation-date', 'creationDate'], ['type', 'type']] as const) {
    const v = text(key);
    if (!v.ok) return v;
    if (v.value !== undefined) out[field] = v.value;
  }
  return { ok: true, value: out };
}

function jobAllowed(jobName: string, allowed: readonly string[]): boolean {
  const bare = jobName.startsWith(JOB_PREFIX) ? jobName.slice(JOB_PREFIX.length) : jobName;
  return allowed.includes(jobName) || allowed.includes(bare);
}

/** labelQuality, in the order a person would ask: who labelled it, how sure, which job. */
function qualityVerdict(meta: Metadata, name: string, quality: LabelQuality): Outcome<null> {
  if (quality.humanAnnotatedOnly && meta.humanAnnotated !== 'yes') {
    const is = meta.humanAnnotated === undefined ? 'is missing' : `is "${meta.humanAnnotated}"`;
    return reject('not_human_annotated', `"${name}"."human-annotated" ${is}; labelQuality.humanAnnotatedOnly keeps only "yes"`);
  }
  if (quality.minConfidence !== undefined && !(meta.confidence !== undefined && meta.confidence >= quality.minConfidence)) {
    const is = meta.confidence === undefined ? 'is missing; keeping a label needs' : `is ${meta.confidence}, below`;
    return reject('low_confidence', `"${name}"."confidence" ${is} labelQuality.minConfidence ${quality.minConfidence}`);
  }
  const allowed = quality.allowedJobNames;
  if (allowed !== undefined && !(meta.jobName !== undefined && jobAllowed(meta.jobName, allowed))) {
    const is = meta.jobName === undefined ? 'is missing' : `is ${JSON.stringify(meta.jobName)}`;
    return reject('job_not_allowed', `"${name}"."job-name" ${is}, not in labelQuality.allowedJobNames (${allowed.join(', ')})`);
  }
  return { ok: true, value: null };
}

export function readManifestLine(text: string, schema: DatasetSchema, plan: FieldPlan, options: LabelledDataOptions): Outcome<Omit<LabelledRecord, 'source'>> {
  const object = jsonObjectLine(text);
  if (!object.ok) return object;
  const record = object.value;

  const source = record.source;
  const sourceRef = record['source-ref'];
  if (source === undefined && sourceRef === undefined) {
    return reject('missing_source', `the line has neither "source" nor "source-ref" (it has ${fieldList(record)}): not a Ground Truth manifest line`);
  }
  if (source !== undefined && typeof source !== 'string') return reject('wrong_type', `"source" is ${describeJson(source)}, expected a string`);
  if (sourceRef !== undefined && typeof sourceRef !== 'string') return reject('wrong_type', `"source-ref" is ${describeJson(sourceRef)}, expected a string`);

  const attribute = plan.label.name;
  if (!Object.hasOwn(record, attribute)) {
    return reject('missing_label', `no label attribute "${attribute}" (the line has ${fieldList(record)}); dataset.input.fields.label names the labelling job's label attribute`);
  }
  const value = record[attribute];
  const metaName = plan.where.metadata;
  const rawMeta = record[metaName];
  if (rawMeta === undefined) return reject('missing_metadata', `label attribute "${attribute}" has no "${metaName}" beside it`);
  if (!isPlainObject(rawMeta)) return reject('wrong_type', `"${metaName}" is ${describeJson(rawMeta)}, expected an object`);
  const meta = readMetadata(rawMeta, metaName);
  if (!meta.ok) return meta;
  const { className, type } = meta.value;

  if (typeof value === 'object' && value !== null) {
    return reject(
      'unsupported_task_type',
      `label attribute "${attribute}" is ${describeJson(value)}${type ? ` (${type})` : ''}; only single-label classification and numeric labels are read`,
    );
  }
  let label: Outcome<number>;
  const names = schema.label.classNames;
  if (names && className !== undefined) {
    // The job's class order need not be the schema's: the name decides, the job's index does not.
    const index = names.indexOf(className);
    label = index >= 0 ? { ok: true, value: index } : reject('unknown_class', `"${metaName}"."class-name" is ${JSON.stringify(className)}, not one of the schema's classes: ${names.join(', ')}`);
  } else {
    label = labelFromJson(value, plan.where.attribute, schema, false);
  }
  if (!label.ok) return label;

  const quality = qualityVerdict(meta.value, metaName, options.labelQuality);
  if (!quality.ok) return quality;

  let features: Outcome<number[]>;
  if (options.featuresFrom === 'source') {
    if (typeof source !== 'string') {
      return reject('missing_source', `featuresFrom is "source", but the line has only "source-ref" (${JSON.stringify(sourceRef)}), an object's location, not a CSV row of features`);
    }
    const fields = source.split(',');
    if (fields.length !== schema.features.length) {
      const count = `${fields.length} comma-separated value${fields.length === 1 ? '' : 's'}`;
      return reject('wrong_width', `"source" is ${describeJson(source)}: ${count}, expected ${schema.features.length} features (${schema.features.map((f) => f.name).join(', ')})`);
    }
    features = featuresFromCsvFields(fields, 0, schema, plan.where.sourceFeatures);
  } else {
    features = featuresFromJson(record, plan, schema);
  }
  if (!features.ok) return features;

  const extras = keyAndTime(record, plan);
  if (!extras.ok) return extras;
  const out: Omit<LabelledRecord, 'source'> = { features: features.value, label: label.value, ...extras.value };
  if (out.time === undefined && meta.value.creationDate !== undefined) {
    const time = timeFromJson(meta.value.creationDate, `"${metaName}"."creation-date"`);
    if (!time.ok) return time;
    out.time = time.value;
  }
  const q: NonNullable<LabelledRecord['quality']> = {};
  if (meta.value.confidence !== undefined) q.confidence = meta.value.confidence;
  if (meta.value.humanAnnotated !== undefined) q.humanAnnotated = meta.value.humanAnnotated === 'yes';
  if (meta.value.jobName !== undefined) q.jobName = meta.value.jobName;
  out.quality = q;
  return { ok: true, value: out };
}
