// Labelled data in every form users have it, read one line at a time into the rows the built-in
// algorithms train on, or turned away with a stable code and a reason that says where. Pure and
// sandbox-safe; the dataset stage streams objects through it.
//
// The interface (the merge engine codes against these names):
//
//   readLabelledLine(format, line, { schema, source, options }) → RecordVerdict
//     format   'csv' (headerless, label first) | 'jsonl' | 'ground-truth-manifest'
//     line     one line without its newline, as bytes (UTF-8 checked exactly) or text (U+FFFD, which a
//              lenient decoder leaves for bad bytes, is read as not_utf8)
//     schema   config.dataset.schema: feature order and types, the label's classes and class names
//     source   where the line came from (object URI and 1-based line number), echoed in the verdict
//     options  config.dataset.input (LabelledDataOptions): field names, maxLineBytes, labelQuality
//
//   joinCapturedWithGroundTruth(captures, groundTruth, { schema, options }) → AsyncIterable<RecordVerdict>
//     captured requests (Model Monitor data capture lines) joined with Model Monitor ground-truth
//     records by inferenceId, else eventId (format 'model-monitor-ground-truth' in the config).
//
//   A verdict is { ok: true, record } or { ok: false, code, reason, source, line }. `code` is one of
//   LABELLED_DATA_CODES (codes.ts) and never changes; `reason` is for people and names the column or
//   field path at fault, without the code (a quarantine line is `${code}: ${reason}`); `line` is the
//   line as read, shortened for line_too_long. Callers skip blank lines or count them: a blank line
//   given here is empty_line. Every line read yields exactly one verdict; a filtered label (low_confidence,
//   not_human_annotated, job_not_allowed) is a verdict like any other, so it is counted, never lost.
import type { DatasetSchema } from '../config';
import type { LabelledDataCode } from './codes';
import { readCsvLine } from './csv';
import { fieldPlan } from './fields';
import { readManifestLine } from './ground-truth-manifest';
import { readJsonLine } from './jsonl';
import { prepareLine } from './line';
import type { LabelledDataOptions } from './options';

export type LabelledDataFormat = 'csv' | 'jsonl' | 'ground-truth-manifest';

export interface RecordSource {
  uri: string;
  /** 1-based. */
  line: number;
}

export interface LabelledRecord {
  /** In schema order, ready for the built-in algorithms' CSV. */
  features: number[];
  /** Class index (0..classes-1) or regression target. */
  label: number;
  /** The configured de-duplication key's value (dataset.input.fields.key); for joined captures, the id they were joined by. */
  key?: string;
  /** ISO 8601 (UTC, milliseconds) event or label time: a configured field, Ground Truth's creation-date, or the capture's inferenceTime. */
  time?: string;
  source: RecordSource;
  /** Ground Truth's label metadata, as read (manifests only). */
  quality?: { confidence?: number; humanAnnotated?: boolean; jobName?: string };
}

export type RecordVerdict =
  | { ok: true; record: LabelledRecord }
  | { ok: false; code: LabelledDataCode; reason: string; source: RecordSource; line: string };

export interface LabelledLineContext {
  schema: DatasetSchema;
  source: RecordSource;
  options: LabelledDataOptions;
}

/** Reads one line of labelled data; see the top of this file. Throws only for a format it does not read line by line. */
export function readLabelledLine(format: LabelledDataFormat, line: string | Uint8Array, context: LabelledLineContext): RecordVerdict {
  const { schema, source, options } = context;
  const text = prepareLine(line, options.maxLineBytes);
  if (typeof text !== 'string') return { ok: false, code: text.code, reason: text.reason, source, line: text.text };
  const plan = fieldPlan(options, schema);
  let read;
  switch (format) {
    case 'csv':
      read = readCsvLine(text, schema, plan);
      break;
    case 'jsonl':
      read = readJsonLine(text, schema, plan);
      break;
    case 'ground-truth-manifest':
      read = readManifestLine(text, schema, plan, options);
      break;
    default:
      throw new TypeError(`readLabelledLine cannot read format ${JSON.stringify(format)}; captured traffic is read with joinCapturedWithGroundTruth`);
  }
  if (!read.ok) return { ok: false, code: read.code, reason: read.reason, source, line: text };
  const record = read.value as LabelledRecord;
  record.source = source;
  return { ok: true, record };
}

export { joinCapturedWithGroundTruth, type LabelledLine } from './capture-join';
export { LABELLED_DATA_CODES, type LabelledDataCode } from './codes';
export {
  LabelQualitySchema,
  LabelledDataInputFormat,
  LabelledDataInputSchema,
  labelledDataOptions,
  type LabelQuality,
  type LabelledDataInputOptions,
  type LabelledDataOptions,
} from './options';
export { parseIsoTime } from './values';
