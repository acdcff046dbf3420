// SageMaker data capture, one JSON line per sampled invocation:
//   { captureData: { endpointInput?, endpointOutput? }, eventMetadata: { eventId, inferenceTime, inferenceId? }, eventVersion }
// where each payload is { observedContentType, mode, data, encoding: CSV | JSON | BASE64 }. Payloads whose
// content type was not listed in the capture config arrive base64-encoded, so every encoding is decoded here.
// Files live under {destination}/{endpoint}/{variant}/yyyy/mm/dd/hh/ (UTC).
import { detachedCopy } from './detached-text';

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
  // (Only here is the text read: CaptureLineScanner relies on that.)
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

// --- Reading the usual line where it lies ---------------------------------------------------------------
// Almost every capture line is the shape Model Monitor writes: one JSON object of plain strings whose
// request is one CSV row. CaptureLineScanner reads such a line in place, with no JSON.parse and no record
// built, checking what parseCaptureLine checks, and reads the row's plain decimal fields as it passes
// them. It declines (scan() or csvRow() returns false) anything else: escapes in a string it needs,
// BASE64, JSON requests, several rows, duplicate keys, text that is not JSON. The caller then takes
// parseCaptureLine, so both paths read every line alike; test/capture.test.ts fuzzes one against the other.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
/** Deeper values than this are left to JSON.parse. */
const MAX_SCAN_DEPTH = 32;
/** Integers below this are exact doubles, and so is every step of reading one digit by digit. */
const EXACT_INTEGER_LIMIT = 2 ** 53;
/** Exact powers of ten, 10^0 to 10^22 (the largest a double holds exactly). */
const EXACT_POWERS_OF_TEN = Array.from({ length: 23 }, (_, i) => 10 ** i);

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isHexDigit = (c: number) => (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
const isJsonSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

// Keys met in each object, as bits: a key seen twice declines the line (JSON.parse keeps the last).
const CAPTURE_DATA = 1;
const EVENT_METADATA = 2;
const ENDPOINT_INPUT = 1;
const ENDPOINT_OUTPUT = 2;
const CONTENT_TYPE = 1;
const ENCODING = 2;
const DATA = 4;
const EVENT_ID = 1;
const INFERENCE_TIME = 2;
const INFERENCE_ID = 4;

/** A JSON string's characters when it holds no escape. */
const PLAIN = '[^"\\\\\\x00-\\x1f]';
const MODEL_MONITOR_LINE_START = '{"captureData":{"endpointInput":{"observedContentType":"';
/**
 * The line as Model Monitor writes it (keys in its order, no spaces, no escapes): most lines, matched in
 * native code in two parts, up to the request's data and after it; the data between, which is most of the
 * line, is read and checked once, by CaptureLineScanner's reading of it. Lines of any other layout go
 * through the member-by-member reading.
 */
const MODEL_MONITOR_HEAD = new RegExp(`${MODEL_MONITOR_LINE_START.replace(/[{]/g, '\\{')}${PLAIN}+","mode":"${PLAIN}*","data":"`, 'y');
const MODEL_MONITOR_TAIL = new RegExp(
  [
    `,"encoding":"(?:CSV|JSON)"\\},`,
    `"endpointOutput":\\{"observedContentType":"${PLAIN}+","mode":"${PLAIN}*","data":"${PLAIN}*","encoding":"(?:CSV|JSON)"\\}\\},`,
    `"eventMetadata":\\{"eventId":"${PLAIN}+","inferenceTime":"${PLAIN}+"\\},"eventVersion":"${PLAIN}*"\\}`,
  ].join(''),
  'y',
);

/** Doubles a reader's field arrays, keeping what they hold: a row with more fields than they have room for. */
function doubleFieldArrays(reader: { values: Float64Array; bounds: Int32Array }): void {
  const values = new Float64Array(reader.values.length * 2);
  values.set(reader.values);
  reader.values = values;
  const bounds = new Int32Array(reader.bounds.length * 2);
  bounds.set(reader.bounds);
  reader.bounds = bounds;
}

export class CaptureLineScanner {
  /** The line last scanned; the positions below are in it. */
  text = '';
  /** Whether the record has an endpointInput; its fields follow. */
  hasInput = false;
  /** endpointInput's encoding. */
  inputEncoding: CaptureEncoding = 'CSV';
  /** endpointInput.observedContentType is text.slice(contentTypeStart, contentTypeEnd). */
  contentTypeStart = 0;
  contentTypeEnd = 0;
  /** eventMetadata.inferenceTime as Date.parse reads it (a number after a successful scan). */
  inferenceTime = NaN;
  /** Fields in endpointInput.data's one CSV row. */
  fields = 0;
  /** Field i is text.slice(bounds[i] + 1, bounds[i + 1]). */
  bounds = new Int32Array(65);
  /** Field i's value when it is a plain decimal (-?d*.?d*, exact digits), else NaN: read it from its text. */
  values = new Float64Array(64);
  private pos = 0;
  /** Where the line ends in `text`. */
  private end = 0;
  /** Whether the line holds a backslash: without one no string has escapes, and strings end at the next quote. */
  private escapes = false;
  private dataBlank = true;
  private lastTime = '';
  private lastTimeValue = NaN;

  /**
   * Lets go of the text last scanned (after csvRow, numberAt and the like are done with it), so that a
   * scanner kept between lines does not hold a chunk of many lines alive meanwhile.
   */
  release(): void {
    this.text = '';
  }

  /**
   * Reads the line text.slice(start, end) if it has the usual shape; false means "use parseCaptureLine".
   * The line is read where it lies, so a whole chunk of lines can be scanned without a string per line.
   */
  scan(text: string, start = 0, end = text.length): boolean {
    this.text = text;
    this.pos = start;
    this.end = end;
    this.hasInput = false;
    this.fields = 0;
    // Model Monitor's own layout, checked by two regular expressions around the request's data, which the
    // data's reading checks itself; then read by position.
    MODEL_MONITOR_HEAD.lastIndex = start;
    if (MODEL_MONITOR_HEAD.test(text)) {
      this.pos = MODEL_MONITOR_HEAD.lastIndex - 1;
      // Data that the reading declines is declined however the rest of the line reads.
      if (!this.inputData()) return false;
      MODEL_MONITOR_TAIL.lastIndex = this.pos;
      if (MODEL_MONITOR_TAIL.test(text) && MODEL_MONITOR_TAIL.lastIndex === end) return this.modelMonitorLine(start);
      this.pos = start;
      this.fields = 0;
    }
    // Any other layout of the same JSON: read it member by member.
    this.escapes = text.slice(start, end).includes('\\');
    this.space();
    if (!this.topLevel()) return false;
    this.space();
    return this.pos === end;
  }

  /**
   * A line MODEL_MONITOR_HEAD, the data and MODEL_MONITOR_TAIL matched from `start` (its strings hold no
   * quote, backslash or control character); `pos` is just past the data.
   */
  private modelMonitorLine(start: number): boolean {
    const text = this.text;
    this.contentTypeStart = start + MODEL_MONITOR_LINE_START.length;
    this.contentTypeEnd = text.indexOf('"', this.contentTypeStart);
    this.inputEncoding = text.charCodeAt(this.pos + ',"encoding":"'.length) === 0x43 ? 'CSV' : 'JSON';
    // The time, from the line's end: ...","inferenceTime":"<time>"},"eventVersion":"<version>"}
    const timeEnd = text.lastIndexOf('"', this.end - 3) + 1 - '"},"eventVersion":"'.length;
    this.inferenceTime = this.timeAt(text.lastIndexOf('"', timeEnd - 1) + 1, timeEnd);
    this.hasInput = true;
    return !Number.isNaN(this.inferenceTime);
  }

  /**
   * After a scan: whether the request is one CSV row of `featureCount` fields, as captureFieldRows reads
   * it (content type first, then encoding); false for anything else, which captureFieldRows then judges.
   */
  csvRow(featureCount: number): boolean {
    if (!this.hasInput || this.fields !== featureCount || this.dataBlank) return false;
    const text = this.text;
    const start = this.contentTypeStart;
    const length = this.contentTypeEnd - start;
    if (length === 8 && text.startsWith('text/csv', start)) return true;
    if (length === 16 && text.startsWith('application/json', start)) return false;
    // The general rule; a BASE64 request never gets here, so the text is not needed.
    return payloadFormat({ contentType: text.slice(start, this.contentTypeEnd), encoding: this.inputEncoding, text: '', binary: false }) === 'csv';
  }

  /** After csvRow: field i as numericalValue reads it (a plain decimal as the scan read it). */
  numberAt(i: number): number {
    const value = this.values[i]!;
    return value === value ? value : numericalValue(this.text.slice(this.bounds[i]! + 1, this.bounds[i + 1]!));
  }

  /**
   * After csvRow: field i's value when it is a plain decimal reading as an integer 0 <= v < limit (then
   * categoryAt(i) is String(v)), else -1.
   */
  smallIntegerAt(i: number, limit: number): number {
    const value = this.values[i]!;
    return value >= 0 && value < limit && (value | 0) === value ? value | 0 : -1;
  }

  /** After csvRow: field i as categoricalValue reads it. */
  categoryAt(i: number): string {
    const value = this.values[i]!;
    return value === value ? categoryOfPlainDecimal(value) : categoricalValue(this.text.slice(this.bounds[i]! + 1, this.bounds[i + 1]!));
  }

  private space(): void {
    const text = this.text;
    while (this.pos < this.end && isJsonSpace(text.charCodeAt(this.pos))) this.pos++;
  }

  /** At a member: whether its key is `"name"`; if so, moves past it (the colon is the caller's to check). */
  private keyIs(name: string): boolean {
    const text = this.text;
    const pos = this.pos;
    if (text.charCodeAt(pos) !== QUOTE || text.charCodeAt(pos + name.length + 1) !== QUOTE || !text.startsWith(name, pos + 1)) return false;
    this.pos = pos + name.length + 2;
    return true;
  }

  /** At a member whose key is none this scanner knows: passes the key and the colon. */
  private otherKey(): boolean {
    return this.text.charCodeAt(this.pos) === QUOTE && this.string() >= 0 && this.colon();
  }

  private colon(): boolean {
    this.space();
    if (this.text.charCodeAt(this.pos) !== COLON) return false;
    this.pos++;
    this.space();
    return true;
  }

  /** After a member's value: 1 if another member follows (now at its key), 0 at the closing brace (passed), -1 otherwise. */
  private next(): number {
    this.space();
    const c = this.text.charCodeAt(this.pos++);
    if (c === CLOSE_BRACE) return 0;
    if (c !== COMMA) return -1;
    this.space();
    return 1;
  }

  /** At '{': 1 with a member ahead, 0 for {} (passed), -1 when not an object. */
  private open(): number {
    if (this.text.charCodeAt(this.pos) !== OPEN_BRACE) return -1;
    this.pos++;
    this.space();
    if (this.text.charCodeAt(this.pos) === CLOSE_BRACE) {
      this.pos++;
      return 0;
    }
    return 1;
  }

  /**
   * At a member of an object whose keys the scanner knows: a key that could spell one of them only with
   * escapes is declined (the caller tests its known keys first, which have no escapes).
   */
  private unknownMember(depth: number): boolean {
    const start = this.pos;
    if (!this.otherKey()) return false;
    if (this.escapes && this.text.lastIndexOf('\\', this.pos) > start) return false;
    return this.value(depth);
  }

  private topLevel(): boolean {
    let seen = 0;
    for (let more = this.open(); more !== 0; more = this.next()) {
      if (more < 0) return false;
      if (this.keyIs('captureData')) {
        if (seen & CAPTURE_DATA || !this.colon() || !this.captureData()) return false;
        seen |= CAPTURE_DATA;
      } else if (this.keyIs('eventMetadata')) {
        if (seen & EVENT_METADATA || !this.colon() || !this.eventMetadata()) return false;
        seen |= EVENT_METADATA;
      } else if (!this.unknownMember(1)) return false;
    }
    return seen === (CAPTURE_DATA | EVENT_METADATA);
  }

  private captureData(): boolean {
    let seen = 0;
    for (let more = this.open(); more !== 0; more = this.next()) {
      if (more < 0) return false;
      if (this.keyIs('endpointInput')) {
        if (seen & ENDPOINT_INPUT || !this.colon() || !this.payload(true)) return false;
        seen |= ENDPOINT_INPUT;
      } else if (this.keyIs('endpointOutput')) {
        if (seen & ENDPOINT_OUTPUT || !this.colon() || !this.payload(false)) return false;
        seen |= ENDPOINT_OUTPUT;
      } else if (!this.unknownMember(2)) return false;
    }
    this.hasInput = (seen & ENDPOINT_INPUT) !== 0;
    return seen !== 0;
  }

  /** A payload: for the input, its content type, encoding and data are kept (and must be free of escapes). */
  private payload(input: boolean): boolean {
    const text = this.text;
    let seen = 0;
    let encoding: CaptureEncoding | '' = '';
    for (let more = this.open(); more !== 0; more = this.next()) {
      if (more < 0) return false;
      if (this.keyIs('observedContentType')) {
        if (seen & CONTENT_TYPE || !this.colon() || text.charCodeAt(this.pos) !== QUOTE) return false;
        const valueStart = this.pos + 1;
        const escapes = this.string();
        if (escapes < 0 || (input && escapes > 0) || this.pos - 1 === valueStart) return false;
        if (input) {
          this.contentTypeStart = valueStart;
          this.contentTypeEnd = this.pos - 1;
        }
        seen |= CONTENT_TYPE;
      } else if (this.keyIs('data')) {
        if (seen & DATA || !this.colon() || text.charCodeAt(this.pos) !== QUOTE) return false;
        if (input ? !this.inputData() : this.string() < 0) return false;
        seen |= DATA;
      } else if (this.keyIs('encoding')) {
        if (seen & ENCODING || !this.colon() || text.charCodeAt(this.pos) !== QUOTE) return false;
        // BASE64 is declined: its text needs decoding, and parseCaptureLine does that.
        if (text.startsWith('CSV"', this.pos + 1)) encoding = 'CSV';
        else if (text.startsWith('JSON"', this.pos + 1)) encoding = 'JSON';
        else return false;
        this.pos += encoding.length + 2;
        seen |= ENCODING;
      } else if (!this.unknownMember(3)) return false;
    }
    if (seen !== (CONTENT_TYPE | ENCODING | DATA) || encoding === '') return false;
    if (input) this.inputEncoding = encoding;
    return true;
  }

  /**
   * endpointInput.data, escape-free ASCII: notes where each CSV field ends and reads the plain decimal
   * ones (numericalField's rule) on the way.
   */
  private inputData(): boolean {
    const text = this.text;
    let bounds = this.bounds;
    let values = this.values;
    let field = 0;
    let i = this.pos + 1;
    bounds[0] = this.pos;
    for (;;) {
      let c = text.charCodeAt(i);
      const negative = c === 0x2d;
      if (negative) c = text.charCodeAt(++i);
      const digitsStart = i;
      // The usual field first: up to 9 digits, a point, up to 9 digits, each part an int32 of its own (two
      // short chains of integer steps instead of one long chain of float steps). Their mantissa is the
      // digits' integer, exact below 2^53, as the loop below makes it; anything else goes to that loop.
      let whole = 0;
      for (; c >= 0x30 && c <= 0x39; c = text.charCodeAt(++i)) whole = (whole * 10 + (c - 0x30)) | 0;
      const wholeDigits = i - digitsStart;
      if (wholeDigits <= 9) {
        let fraction = 0;
        let scale = 0;
        if (c === 0x2e) {
          const fractionStart = i + 1;
          for (c = text.charCodeAt(++i); c >= 0x30 && c <= 0x39; c = text.charCodeAt(++i)) fraction = (fraction * 10 + (c - 0x30)) | 0;
          scale = i - fractionStart;
        }
        if ((c === COMMA || c === QUOTE) && scale <= 9 && wholeDigits + scale > 0) {
          const mantissa = scale > 0 ? whole * EXACT_POWERS_OF_TEN[scale]! + fraction : whole;
          let value = NaN;
          if (mantissa < EXACT_INTEGER_LIMIT) {
            const magnitude = scale > 0 ? mantissa / EXACT_POWERS_OF_TEN[scale]! : mantissa;
            value = negative ? -magnitude : magnitude;
          }
          if (field + 1 === values.length) {
            doubleFieldArrays(this);
            values = this.values;
            bounds = this.bounds;
          }
          values[field] = value;
          bounds[++field] = i;
          if (c === QUOTE) break;
          i++;
          continue;
        }
      }
      i = digitsStart;
      c = text.charCodeAt(i);
      let mantissa = 0;
      let point = -1;
      for (; ; c = text.charCodeAt(++i)) {
        // (c is NaN past the end of the text: no digit.)
        if (c >= 0x30 && c <= 0x39) mantissa = mantissa * 10 + (c - 0x30);
        else if (c === 0x2e && point < 0) point = i;
        else break;
      }
      let value = NaN;
      if (c === COMMA || c === QUOTE) {
        // Digits after the point, and whether there is any digit at all.
        const scale = point < 0 ? 0 : i - point - 1;
        if (i - digitsStart > (point < 0 ? 0 : 1) && mantissa < EXACT_INTEGER_LIMIT && scale <= 22) {
          const magnitude = scale > 0 ? mantissa / EXACT_POWERS_OF_TEN[scale]! : mantissa;
          value = negative ? -magnitude : magnitude;
        }
      } else {
        // Not a plain decimal: find its end; control characters, escapes and non-ASCII text are declined.
        for (; c !== COMMA && c !== QUOTE; c = text.charCodeAt(++i)) if (!(c >= 0x20 && c < 0x80) || c === BACKSLASH) return false;
      }
      if (field + 1 === values.length) {
        doubleFieldArrays(this);
        values = this.values;
        bounds = this.bounds;
      }
      values[field] = value;
      bounds[++field] = i;
      if (c === QUOTE) break;
      i++;
    }
    this.fields = field;
    // captureFieldRows reads an all-blank request as no rows at all: left to it.
    let blank = field === 1;
    for (let j = bounds[0]! + 1; blank && j < i; j++) blank = text.charCodeAt(j) === 0x20;
    this.dataBlank = blank;
    this.pos = i + 1;
    return true;
  }

  private eventMetadata(): boolean {
    const text = this.text;
    let seen = 0;
    for (let more = this.open(); more !== 0; more = this.next()) {
      if (more < 0) return false;
      if (this.keyIs('eventId')) {
        // Any non-empty string: an escape stands for at least one character.
        if (seen & EVENT_ID || !this.colon() || text.charCodeAt(this.pos) !== QUOTE) return false;
        const valueStart = this.pos + 1;
        if (this.string() < 0 || this.pos - 1 === valueStart) return false;
        seen |= EVENT_ID;
      } else if (this.keyIs('inferenceTime')) {
        if (seen & INFERENCE_TIME || !this.colon() || text.charCodeAt(this.pos) !== QUOTE) return false;
        const valueStart = this.pos + 1;
        if (this.string() !== 0 || this.pos - 1 === valueStart) return false;
        this.inferenceTime = this.timeAt(valueStart, this.pos - 1);
        if (Number.isNaN(this.inferenceTime)) return false;
        seen |= INFERENCE_TIME;
      } else if (this.keyIs('inferenceId')) {
        if (seen & INFERENCE_ID || !this.colon() || text.charCodeAt(this.pos) !== QUOTE || this.string() < 0) return false;
        seen |= INFERENCE_ID;
      } else if (!this.unknownMember(2)) return false;
    }
    return (seen & (EVENT_ID | INFERENCE_TIME)) === (EVENT_ID | INFERENCE_TIME);
  }

  /** Date.parse of text.slice(start, end); a file's records mostly share their time, so the last one is kept. */
  private timeAt(start: number, end: number): number {
    const last = this.lastTime;
    if (end - start === last.length && this.text.startsWith(last, start)) return this.lastTimeValue;
    // A copy, not a slice, which would keep the whole chunk alive for as long as the time stays the same.
    this.lastTime = detachedCopy(this.text.slice(start, end));
    this.lastTimeValue = Date.parse(this.lastTime);
    return this.lastTimeValue;
  }

  /** At '"': moves past the string. Returns -1 if it is not valid JSON, else 1 if it holds escapes, 0 if not. */
  private string(): number {
    const text = this.text;
    let i = this.pos + 1;
    if (!this.escapes) {
      // No escapes on the line: the string ends at the next quote, and holds no control character.
      const end = text.indexOf('"', i);
      if (end < 0) return -1;
      for (; i < end; i++) if (text.charCodeAt(i) < 0x20) return -1;
      this.pos = end + 1;
      return 0;
    }
    let escapes = 0;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        escapes = 1;
        const e = text.charCodeAt(i + 1);
        if (e === 0x75) {
          if (!(isHexDigit(text.charCodeAt(i + 2)) && isHexDigit(text.charCodeAt(i + 3)) && isHexDigit(text.charCodeAt(i + 4)) && isHexDigit(text.charCodeAt(i + 5)))) return -1;
          i += 6;
        } else if (e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) i += 2;
        else return -1;
      } else if (c >= 0x20) i++;
      else return -1; // a control character, or the end of the line (NaN)
    }
    this.pos = i + 1;
    return escapes;
  }

  /** Any JSON value, checked and passed over. */
  private value(depth: number): boolean {
    const text = this.text;
    const c = text.charCodeAt(this.pos);
    if (c === QUOTE) return this.string() >= 0;
    if (c === OPEN_BRACE) {
      if (depth >= MAX_SCAN_DEPTH) return false;
      for (let more = this.open(); more !== 0; more = this.next()) {
        if (more < 0 || !this.otherKey() || !this.value(depth + 1)) return false;
      }
      return true;
    }
    if (c === OPEN_BRACKET) {
      if (depth >= MAX_SCAN_DEPTH) return false;
      this.pos++;
      this.space();
      if (text.charCodeAt(this.pos) === CLOSE_BRACKET) {
        this.pos++;
        return true;
      }
      for (;;) {
        if (!this.value(depth + 1)) return false;
        this.space();
        const d = text.charCodeAt(this.pos++);
        if (d === CLOSE_BRACKET) return true;
        if (d !== COMMA) return false;
        this.space();
      }
    }
    if (c === 0x74) return this.literal('true');
    if (c === 0x66) return this.literal('false');
    if (c === 0x6e) return this.literal('null');
    return this.number();
  }

  private literal(word: string): boolean {
    if (!this.text.startsWith(word, this.pos)) return false;
    this.pos += word.length;
    return true;
  }

  /** A JSON number: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)? */
  private number(): boolean {
    const text = this.text;
    let i = this.pos;
    if (text.charCodeAt(i) === 0x2d) i++;
    const first = text.charCodeAt(i);
    if (first === 0x30) i++;
    else if (first >= 0x31 && first <= 0x39) while (isDigit(text.charCodeAt(i))) i++;
    else return false;
    if (text.charCodeAt(i) === 0x2e) {
      if (!isDigit(text.charCodeAt(++i))) return false;
      while (isDigit(text.charCodeAt(i))) i++;
    }
    const e = text.charCodeAt(i);
    if (e === 0x65 || e === 0x45) {
      const sign = text.charCodeAt(++i);
      if (sign === 0x2b || sign === 0x2d) i++;
      if (!isDigit(text.charCodeAt(i))) return false;
      while (isDigit(text.charCodeAt(i))) i++;
    }
    this.pos = i;
    return true;
  }
}

/**
 * text.slice(start, end) as a number when it is a plain decimal, -?d*.?d* with at least one digit whose
 * digits make an integer below 2^53 and at most 22 of them after the point; NaN otherwise. That integer
 * divided by a power of ten, both exact, is the correctly rounded value, which is what Number() gives
 * (Clinger's fast path).
 */
export function plainDecimal(text: string, start: number, end: number): number {
  let i = start;
  const negative = i < end && text.charCodeAt(i) === 0x2d;
  if (negative) i++;
  let mantissa = 0;
  let digits = 0;
  let scale = -1;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    const digit = c - 0x30;
    if (digit >= 0 && digit <= 9) {
      mantissa = mantissa * 10 + digit;
      digits++;
      if (scale >= 0) scale++;
    } else if (c === 0x2e && scale < 0) scale = 0;
    else return NaN;
  }
  if (digits === 0 || mantissa >= EXACT_INTEGER_LIMIT || scale > 22) return NaN;
  const magnitude = scale > 0 ? mantissa / EXACT_POWERS_OF_TEN[scale]! : mantissa;
  return negative ? -magnitude : magnitude;
}

/**
 * The fields of one CSV row, text.slice(start, end), read in a single pass: field f is
 * text.slice(bounds[f], bounds[f + 1] - 1), and values[f] is its plainDecimal value (NaN when it is not a
 * plain decimal: read its text then). Fields are what lies between commas; quotes are not special.
 * About twice as fast on a training split's rows as finding each comma and then reading each field.
 */
export class CsvRowFields {
  /** Field f starts at bounds[f] and ends just before bounds[f + 1] - 1 (its comma, or the row's end). */
  bounds = new Int32Array(65);
  values = new Float64Array(64);

  /** Reads the row; returns how many fields it has. */
  read(text: string, start: number, end: number): number {
    let bounds = this.bounds;
    let values = this.values;
    let field = 0;
    let i = start;
    bounds[0] = start;
    for (;;) {
      if (field + 1 === values.length) {
        doubleFieldArrays(this);
        values = this.values;
        bounds = this.bounds;
      }
      const fieldStart = i;
      // The usual field: -?d*.?d* up to 9 digits either side of the point (each side an int32 of its own),
      // ended by a comma or the row's end; as plainDecimal reads it. Anything else reads on below.
      let c = i < end ? text.charCodeAt(i) : -1;
      const negative = c === 0x2d;
      if (negative) c = ++i < end ? text.charCodeAt(i) : -1;
      const digitsStart = i;
      let whole = 0;
      for (; c >= 0x30 && c <= 0x39; c = ++i < end ? text.charCodeAt(i) : -1) whole = (whole * 10 + (c - 0x30)) | 0;
      const wholeDigits = i - digitsStart;
      let fraction = 0;
      let scale = 0;
      if (c === 0x2e) {
        const fractionStart = i + 1;
        for (c = ++i < end ? text.charCodeAt(i) : -1; c >= 0x30 && c <= 0x39; c = ++i < end ? text.charCodeAt(i) : -1) fraction = (fraction * 10 + (c - 0x30)) | 0;
        scale = i - fractionStart;
      }
      let value = NaN;
      if ((c === COMMA || c === -1) && wholeDigits <= 9 && scale <= 9) {
        // The digits' integer, exact below 2^53 (beyond, plainDecimal's NaN too).
        const mantissa = scale > 0 ? whole * EXACT_POWERS_OF_TEN[scale]! + fraction : whole;
        if (wholeDigits + scale > 0 && mantissa < EXACT_INTEGER_LIMIT) {
          const magnitude = scale > 0 ? mantissa / EXACT_POWERS_OF_TEN[scale]! : mantissa;
          value = negative ? -magnitude : magnitude;
        }
      } else {
        // Longer digits, or not a plain decimal: to the field's end, then as plainDecimal reads it.
        for (; c !== COMMA && c !== -1; c = ++i < end ? text.charCodeAt(i) : -1);
        value = plainDecimal(text, fieldStart, i);
      }
      values[field] = value;
      bounds[++field] = i + 1;
      if (c === -1) return field;
      i++;
    }
  }
}

/** numericalValue(text.slice(start, end)), without the slice for a plain decimal. */
export function numericalField(text: string, start: number, end: number): number {
  const value = plainDecimal(text, start, end);
  return value === value ? value : numericalValue(text.slice(start, end));
}

/** Categories that are small integers, made once: such a field's category then costs no string. */
const SMALL_INTEGER_CATEGORIES = Array.from({ length: 1024 }, (_, i) => String(i));

/**
 * The category of a plain decimal's value (categoricalValue of its text: the shortest decimal string of
 * the number it reads as).
 */
export function categoryOfPlainDecimal(value: number): string {
  return value >= 0 && value < SMALL_INTEGER_CATEGORIES.length && Number.isInteger(value) ? SMALL_INTEGER_CATEGORIES[value]! : String(value);
}

/** categoricalValue(text.slice(start, end)), without the slice for a plain decimal. */
export function categoricalField(text: string, start: number, end: number): string {
  const value = plainDecimal(text, start, end);
  return value === value ? categoryOfPlainDecimal(value) : categoricalValue(text.slice(start, end));
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
