// SageMaker data capture, one JSON line per sampled invocation:
//   { captureData: { endpointInput?, endpointOutput? }, eventMetadata: { eventId, inferenceTime, inferenceId? }, eventVersion }
// where each payload is { observedContentType, mode, data, encoding: CSV | JSON | BASE64 }. Payloads whose
// content type was not listed in the capture config arrive base64-encoded, so every encoding is decoded here.
// Files live under {destination}/{endpoint}/{variant}/yyyy/mm/dd/hh/ (UTC).

export type CaptureEncoding = 'CSV' | 'JSON' | 'BASE64';

export interface CapturedPayload {
  contentType: string;
  encoding: CaptureEncoding;
  /** The payload as text; '' when `binary`. */
  text: string;
  /** A BASE64 payload that is not UTF-8 text (e.g. protobuf recordio): kept out of `text` rather than mangled. */
  binary: boolean;
}

export interface CaptureRecord {
  eventId: string;
  inferenceId?: string;
  /** As captured (ISO 8601, e.g. 2024-03-01T10:15:00Z); guaranteed to parse with `new Date()`. */
  inferenceTime: string;
  input?: CapturedPayload;
  output?: CapturedPayload;
}

/** A capture line or payload that cannot be read; `field` is the path of the offending field. */
export class CaptureFormatError extends Error {
  override readonly name = 'CaptureFormatError';
  constructor(
    readonly field: string,
    detail: string,
  ) {
    super(`${field}: ${detail}`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requiredString(parent: Record<string, unknown>, key: string, path: string): string {
  const value = parent[key];
  if (typeof value !== 'string' || value === '') {
    throw new CaptureFormatError(`${path}.${key}`, value === undefined ? 'missing' : `must be a non-empty string, got ${JSON.stringify(value)}`);
  }
  return value;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeBase64(data: string, path: string): { text: string; binary: boolean } {
  let raw: string;
  try {
    raw = atob(data.replace(/\s+/g, ''));
  } catch {
    throw new CaptureFormatError(path, 'is marked BASE64 but is not valid base64');
  }
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  try {
    return { text: utf8.decode(bytes), binary: false };
  } catch {
    return { text: '', binary: true };
  }
}

function parsePayload(value: unknown, path: string): CapturedPayload | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) throw new CaptureFormatError(path, 'must be an object');
  const contentType = requiredString(value, 'observedContentType', path);
  const encoding = value.encoding;
  if (encoding !== 'CSV' && encoding !== 'JSON' && encoding !== 'BASE64') {
    throw new CaptureFormatError(`${path}.encoding`, `must be CSV, JSON or BASE64, got ${JSON.stringify(encoding)}`);
  }
  const data = value.data;
  if (typeof data !== 'string') throw new CaptureFormatError(`${path}.data`, data === undefined ? 'missing' : 'must be a string');
  if (encoding === 'BASE64') return { contentType, encoding, ...decodeBase64(data, `${path}.data`) };
  return { contentType, encoding, text: data, binary: false };
}

/** Parses one line of a capture file; throws CaptureFormatError naming the missing or invalid field. */
export function parseCaptureLine(line: string): CaptureRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (err) {
    throw new CaptureFormatError('(line)', `not JSON: ${(err as Error).message}`);
  }
  if (!isObject(parsed)) throw new CaptureFormatError('(line)', 'must be a JSON object');

  const metadata = parsed.eventMetadata;
  if (!isObject(metadata)) throw new CaptureFormatError('eventMetadata', metadata === undefined ? 'missing' : 'must be an object');
  const eventId = requiredString(metadata, 'eventId', 'eventMetadata');
  const inferenceTime = requiredString(metadata, 'inferenceTime', 'eventMetadata');
  if (Number.isNaN(Date.parse(inferenceTime))) throw new CaptureFormatError('eventMetadata.inferenceTime', `is not a timestamp: ${JSON.stringify(inferenceTime)}`);
  const inferenceId = metadata.inferenceId;
  if (inferenceId !== undefined && typeof inferenceId !== 'string') throw new CaptureFormatError('eventMetadata.inferenceId', 'must be a string');

  const captureData = parsed.captureData;
  if (!isObject(captureData)) throw new CaptureFormatError('captureData', captureData === undefined ? 'missing' : 'must be an object');
  const input = parsePayload(captureData.endpointInput, 'captureData.endpointInput');
  const output = parsePayload(captureData.endpointOutput, 'captureData.endpointOutput');
  if (!input && !output) throw new CaptureFormatError('captureData', 'has neither endpointInput nor endpointOutput');

  const record: CaptureRecord = { eventId, inferenceTime };
  if (inferenceId !== undefined) record.inferenceId = inferenceId;
  if (input) record.input = input;
  if (output) record.output = output;
  return record;
}

/** A feature value from CSV or JSON; empty or null is missing (NaN), which drift counts rather than drops silently. */
function featureValue(raw: unknown, where: string): number {
  if (raw === null || raw === undefined) return NaN;
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'string') {
    const text = raw.trim().replace(/^"(.*)"$/, '$1').trim();
    if (text === '') return NaN;
    const value = Number(text);
    if (!Number.isNaN(value)) return value;
  }
  throw new CaptureFormatError(where, `is not a number: ${JSON.stringify(raw)}`);
}

function payloadFormat(payload: CapturedPayload): 'csv' | 'json' {
  // The common content types, before the general rule's string work (this runs once per record).
  if (payload.contentType === 'text/csv') return 'csv';
  if (payload.contentType === 'application/json') return 'json';
  const mediaType = payload.contentType.split(';')[0]!.trim().toLowerCase();
  if (mediaType.includes('csv')) return 'csv';
  if (mediaType.includes('json')) return 'json';
  if (payload.encoding === 'CSV') return 'csv';
  if (payload.encoding === 'JSON') return 'json';
  // Base64 with an unhelpful content type (application/octet-stream): JSON starts with a bracket.
  return /^\s*[[{]/.test(payload.text) ? 'json' : 'csv';
}

/** A request's feature fields, one array per row, before any value is interpreted. */
export interface CaptureFieldRows {
  format: 'csv' | 'json';
  /** CSV fields as text, JSON values as given. */
  rows: unknown[][];
  /** 1-based row (CSV line or JSON instance) of each entry of `rows`, for error messages. */
  positions: number[];
}

function csvFieldRows(text: string, featureCount: number): CaptureFieldRows {
  if (!text.includes('\n') && !text.endsWith('\r') && text.trim() !== '') {
    // One row, the usual request: no line splitting.
    const fields = text.split(',');
    if (fields.length !== featureCount) throw new CaptureFormatError('input row 1', `has ${fields.length} values, expected ${featureCount} features`);
    return { format: 'csv', rows: [fields], positions: [1] };
  }
  const rows: unknown[][] = [];
  const positions: number[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    let line = lines[index]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') continue;
    const fields = line.split(',');
    if (fields.length !== featureCount) {
      throw new CaptureFormatError(`input row ${index + 1}`, `has ${fields.length} values, expected ${featureCount} features`);
    }
    rows.push(fields);
    positions.push(index + 1);
  }
  return { format: 'csv', rows, positions };
}

function jsonInstances(parsed: unknown): unknown[] {
  if (Array.isArray(parsed)) {
    // A single flat instance [1, 2, 3] or a list of instances.
    return parsed.every((v) => !Array.isArray(v) && !isObject(v)) ? [parsed] : parsed;
  }
  if (isObject(parsed)) {
    if (Array.isArray(parsed.instances)) return parsed.instances;
    if (Array.isArray(parsed.features)) return [parsed];
  }
  throw new CaptureFormatError('input', 'JSON payload must be {"instances":[...]}, {"features":[...]}, an array of arrays or one array of values');
}

function jsonFieldRows(text: string, featureCount: number): CaptureFieldRows {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new CaptureFormatError('input', `is not JSON: ${(err as Error).message}`);
  }
  const rows = jsonInstances(parsed).map((instance, index) => {
    const values = Array.isArray(instance) ? instance : isObject(instance) && Array.isArray(instance.features) ? instance.features : null;
    if (!values) throw new CaptureFormatError(`input instance ${index + 1}`, 'must be an array of values or {"features":[...]}');
    if (values.length !== featureCount) {
      throw new CaptureFormatError(`input instance ${index + 1}`, `has ${values.length} values, expected ${featureCount} features`);
    }
    return values as unknown[];
  });
  return { format: 'json', rows, positions: rows.map((_, i) => i + 1) };
}

/**
 * The feature fields of a captured request: CSV (one row per line) or JSON (SageMaker's
 * {"instances":[{"features":[...]}]}, or arrays). Every row must have exactly `featureCount` fields, or
 * the whole request is refused, so a request never contributes half its rows.
 */
export function captureFieldRows(record: CaptureRecord, featureCount: number): CaptureFieldRows {
  const input = record.input;
  if (!input) throw new CaptureFormatError('captureData.endpointInput', `missing in event ${record.eventId} (capture mode without Input?)`);
  if (input.binary) throw new CaptureFormatError('captureData.endpointInput.data', `is binary (${input.contentType}), not CSV or JSON text`);
  return payloadFormat(input) === 'csv' ? csvFieldRows(input.text, featureCount) : jsonFieldRows(input.text, featureCount);
}

/**
 * The feature rows of a captured request as numbers (see captureFieldRows); empty or null values come
 * back as NaN (missing), anything else that is not a number is a CaptureFormatError.
 */
export function captureFeatureRows(record: CaptureRecord, featureCount: number): number[][] {
  const { format, rows, positions } = captureFieldRows(record, featureCount);
  return rows.map((row, r) => {
    const where = format === 'csv' ? `input row ${positions[r]}, column` : `input instance ${positions[r]}, feature`;
    return row.map((v, column) => featureValue(v, `${where} ${column + 1}`));
  });
}

/**
 * A numerical feature's value from a CSV field or JSON value: NaN (missing) when empty, null or not a
 * number. Surrounding spaces and double quotes are allowed.
 */
export function numericalValue(raw: unknown): number {
  if (typeof raw === 'number') return raw;
  if (typeof raw !== 'string') return NaN;
  const value = Number(raw);
  if (value === value) return value === 0 && raw.trim() === '' ? NaN : value;
  const unquoted = /^\s*"(.*)"\s*$/.exec(raw)?.[1]?.trim();
  return unquoted ? Number(unquoted) : NaN;
}

/**
 * A categorical feature's value: '' (missing) when empty or null; a number, or text that reads as a
 * finite number, is the category of its shortest decimal string, so "1.0", " 1" and 1 are one category.
 */
export function categoricalValue(raw: unknown): string {
  if (typeof raw === 'number') return Number.isFinite(raw) ? String(raw) : '';
  if (typeof raw === 'boolean') return String(raw);
  if (typeof raw !== 'string') return '';
  let text = raw.trim();
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) text = text.slice(1, -1).trim();
  if (text === '') return '';
  const value = Number(text);
  return Number.isFinite(value) ? String(value) : text;
}

const HOUR_MS = 3_600_000;
const pad = (n: number) => String(n).padStart(2, '0');

/**
 * The `{endpoint}/{variant}/yyyy/mm/dd/hh/` prefixes (UTC) of every hour that overlaps [from, to].
 * Callers still filter records by inferenceTime: an hour's files hold the whole hour.
 */
export function captureKeyHours(endpoint: string, variant: string, from: Date, to: Date): string[] {
  const start = from.getTime();
  const end = to.getTime();
  if (Number.isNaN(start) || Number.isNaN(end)) throw new RangeError('captureKeyHours needs valid dates');
  const prefixes: string[] = [];
  for (let hour = Math.floor(start / HOUR_MS) * HOUR_MS; hour <= end; hour += HOUR_MS) {
    const t = new Date(hour);
    prefixes.push(`${endpoint}/${variant}/${t.getUTCFullYear()}/${pad(t.getUTCMonth() + 1)}/${pad(t.getUTCDate())}/${pad(t.getUTCHours())}/`);
  }
  return prefixes;
}
