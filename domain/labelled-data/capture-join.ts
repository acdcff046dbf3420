// Captured endpoint traffic joined with ground-truth labels delivered later, as Model Monitor's
// model-quality merge joins them. A ground-truth record is one JSON line:
//   {"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId": "..."}, "eventVersion": "0"}
// Its eventId holds the capture's inferenceId when the caller sent one with InvokeEndpoint, else the
// capture's own eventId; as in Model Monitor, a capture with an inferenceId is matched by it alone.
import type { DatasetSchema } from '../config';
import { CaptureFormatError, captureFieldRows, parseCaptureLine, type CaptureRecord } from '../capture';
import type { LabelledRecord, RecordSource, RecordVerdict } from './index';
import { describeJson, fieldAt, isPlainObject, parseJson } from './json';
import { jsonObjectLine } from './jsonl';
import { labelFromJson, labelFromText } from './label';
import { prepareLine, reject, type Outcome } from './line';
import { fieldPlan, type FieldPlan } from './fields';
import type { LabelledDataOptions } from './options';
import { parseDecimal, parseIsoTime } from './values';

/** One line of an object, where it came from, as bytes or text. */
export interface LabelledLine {
  line: string | Uint8Array;
  source: RecordSource;
}

type Lines = AsyncIterable<LabelledLine> | Iterable<LabelledLine>;

const where = (s: RecordSource) => `${s.uri}:${s.line}`;

function readGroundTruthRecord(text: string, schema: DatasetSchema, plan: FieldPlan): Outcome<{ id: string; label: number }> {
  const object = jsonObjectLine(text);
  if (!object.ok) return object;
  const record = object.value;
  const truth = record.groundTruthData;
  if (!isPlainObject(truth)) return reject('bad_ground_truth', `"groundTruthData" is ${truth === undefined ? 'missing' : `${describeJson(truth)}, expected an object`}`);
  const metadata = record.eventMetadata;
  if (!isPlainObject(metadata)) return reject('bad_ground_truth', `"eventMetadata" is ${metadata === undefined ? 'missing' : `${describeJson(metadata)}, expected an object`}`);
  const id = metadata.eventId ?? metadata.inferenceId;
  if (typeof id !== 'string' || id === '') {
    return reject('bad_ground_truth', `"eventMetadata"."eventId" is ${id === undefined ? 'missing' : describeJson(id)}, expected the captured request's inferenceId or eventId`);
  }
  const { data, encoding } = truth;
  if (typeof data !== 'string') return reject('bad_ground_truth', `"groundTruthData"."data" is ${data === undefined ? 'missing' : describeJson(data)}, expected a string`);
  const at = '"groundTruthData"."data"';
  let label: Outcome<number>;
  if (encoding === 'CSV') {
    const fields = data.split(',');
    if (fields.length !== 1) return reject('wrong_width', `${at} has ${fields.length} CSV values, expected 1 (the label)`);
    label = labelFromText(data.trim(), at, schema, true);
  } else if (encoding === 'JSON') {
    const parsed = parseJson(data, at);
    if (!parsed.ok) return parsed;
    label = isPlainObject(parsed.value)
      ? labelFromJson(fieldAt(parsed.value, plan.label.path), `${at} field "${plan.label.name}"`, schema, true)
      : labelFromJson(parsed.value, at, schema, true);
  } else {
    return reject('bad_ground_truth', `"groundTruthData"."encoding" is ${encoding === undefined ? 'missing' : describeJson(encoding)}, expected "CSV" or "JSON"`);
  }
  return label.ok ? { ok: true, value: { id, label: label.value } } : label;
}

function capturedValue(raw: unknown, at: string): Outcome<number> {
  if (typeof raw === 'number') return Number.isFinite(raw) ? { ok: true, value: raw } : reject('not_a_number', `${at} is not a finite number`);
  if (raw === null || raw === undefined) return reject('missing_value', `${at} is ${raw === null ? 'null' : 'missing'}`);
  if (typeof raw !== 'string') return reject('wrong_type', `${at} is ${describeJson(raw)}, expected a number`);
  let text = raw.trim();
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) text = text.slice(1, -1).trim();
  if (text === '') return reject('missing_value', `${at} is empty`);
  const value = parseDecimal(text);
  return value === null ? reject('not_a_number', `${at} is ${JSON.stringify(text)}, not a finite decimal number`) : { ok: true, value };
}

function capturedFeatures(capture: CaptureRecord, schema: DatasetSchema): Outcome<number[]> {
  let rows;
  try {
    rows = captureFieldRows(capture, schema.features.length);
  } catch (err) {
    if (!(err instanceof CaptureFormatError)) throw err;
    const code = /^input (row|instance) \d+$/.test(err.field) ? 'wrong_width' : 'bad_capture';
    return reject(code, `captured ${err.message}`);
  }
  if (rows.rows.length !== 1) {
    return reject('ambiguous_capture', `the captured request has ${rows.rows.length} rows; one ground-truth record labels exactly one`);
  }
  const fields = rows.rows[0]!;
  const kind = rows.format === 'csv' ? 'column' : 'value';
  const out: number[] = new Array(fields.length);
  for (let i = 0; i < fields.length; i++) {
    const value = capturedValue(fields[i], `captured input ${kind} ${i + 1} (feature "${schema.features[i]!.name}")`);
    if (!value.ok) return value;
    out[i] = value.value;
  }
  return { ok: true, value: out };
}

interface LabelEntry {
  label: number;
  source: RecordSource;
  line: string;
  /** Later records for the id that disagree with this one. */
  conflicts: { label: number; source: RecordSource }[];
  joinedBy: RecordSource | null;
}

async function* eachLine(lines: Lines): AsyncGenerator<LabelledLine> {
  yield* lines as AsyncIterable<LabelledLine>;
}

/**
 * Joins captured requests with ground-truth records, yielding one verdict for every line read:
 *  - ground-truth lines are read first (all of them: the index of labels is what memory holds);
 *    a bad one is rejected where it stands, a repeat is duplicate_label or conflicting_label;
 *  - each capture then yields one verdict: ok (its features, the label, time = inferenceTime,
 *    key = the id it was joined by, source = the ground-truth line), no_label_yet, or why not;
 *    a joined capture's verdict also stands for its first ground-truth line;
 *  - last, every ground-truth record no capture matched is unmatched_label.
 * Every input line is thus in exactly one verdict, and nothing is dropped unseen.
 */
export async function* joinCapturedWithGroundTruth(
  captures: Lines,
  groundTruth: Lines,
  context: { schema: DatasetSchema; options: LabelledDataOptions },
): AsyncGenerator<RecordVerdict> {
  const { schema, options } = context;
  const plan = fieldPlan(options, schema);
  const labels = new Map<string, LabelEntry>();
  const rejectedIds = new Map<string, { code: string; source: RecordSource }>();

  for await (const { line, source } of eachLine(groundTruth)) {
    const text = prepareLine(line, options.maxLineBytes);
    if (typeof text !== 'string') {
      yield { ok: false, code: text.code, reason: text.reason, source, line: text.text };
      continue;
    }
    const read = readGroundTruthRecord(text, schema, plan);
    if (!read.ok) {
      const id = idOf(text);
      if (id !== undefined && !labels.has(id)) rejectedIds.set(id, { code: read.code, source });
      yield { ok: false, code: read.code, reason: read.reason, source, line: text };
      continue;
    }
    const { id, label } = read.value;
    const first = labels.get(id);
    if (!first) {
      labels.set(id, { label, source, line: text, conflicts: [], joinedBy: null });
      continue;
    }
    if (first.label === label) {
      yield { ok: false, code: 'duplicate_label', reason: `id ${id} already has label ${label} from ${where(first.source)}`, source, line: text };
    } else {
      first.conflicts.push({ label, source });
      yield { ok: false, code: 'conflicting_label', reason: `id ${id} is labelled ${label} here but ${first.label} at ${where(first.source)}`, source, line: text };
    }
  }

  for await (const { line, source } of eachLine(captures)) {
    const text = prepareLine(line, options.maxLineBytes);
    if (typeof text !== 'string') {
      yield { ok: false, code: text.code, reason: text.reason, source, line: text.text };
      continue;
    }
    let capture: CaptureRecord;
    try {
      capture = parseCaptureLine(text);
    } catch (err) {
      if (!(err instanceof CaptureFormatError)) throw err;
      yield { ok: false, code: 'bad_capture', reason: `capture ${err.message}`, source, line: text };
      continue;
    }
    const idName = capture.inferenceId !== undefined ? 'inferenceId' : 'eventId';
    const id = capture.inferenceId ?? capture.eventId;
    const entry = labels.get(id);
    const fail = (code: Extract<RecordVerdict, { ok: false }>['code'], reason: string): RecordVerdict => ({ ok: false, code, reason, source, line: text });
    if (!entry) {
      const rejected = rejectedIds.get(id);
      const why = rejected ? `: its ground-truth record at ${where(rejected.source)} was rejected (${rejected.code})` : ' among the ground-truth records read';
      yield fail('no_label_yet', `no label for ${idName} ${id}${why}`);
      continue;
    }
    if (entry.joinedBy) {
      yield fail('duplicate_capture', `${idName} ${id} was already joined, by the capture at ${where(entry.joinedBy)}, with the label at ${where(entry.source)}`);
      continue;
    }
    entry.joinedBy = source;
    const withLabel = `; its label at ${where(entry.source)} is set aside with it`;
    if (entry.conflicts.length) {
      const all = [entry, ...entry.conflicts].map((c) => `${c.label} at ${where(c.source)}`).join(', ');
      yield fail('conflicting_label', `the ground-truth records for ${idName} ${id} disagree: ${all}`);
      continue;
    }
    const features = capturedFeatures(capture, schema);
    if (!features.ok) {
      yield fail(features.code, `${features.reason}${withLabel}`);
      continue;
    }
    const record: LabelledRecord = {
      features: features.value,
      label: entry.label,
      key: id,
      time: parseIsoTime(capture.inferenceTime) ?? capture.inferenceTime,
      source: entry.source,
    };
    yield { ok: true, record };
  }

  for (const [id, entry] of labels) {
    if (entry.joinedBy) continue;
    yield { ok: false, code: 'unmatched_label', reason: `no captured request with inferenceId or eventId ${id} among the captures read`, source: entry.source, line: entry.line };
  }
}

/** The id of a ground-truth line that was rejected, when it can still be read, to explain its capture's verdict. */
function idOf(text: string): string | undefined {
  try {
    const metadata = (JSON.parse(text) as { eventMetadata?: { eventId?: unknown; inferenceId?: unknown } })?.eventMetadata;
    const id = metadata?.eventId ?? metadata?.inferenceId;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}
