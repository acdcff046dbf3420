import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  CaptureFormatError,
  CaptureLineScanner,
  captureFeatureRows,
  captureFieldRows,
  captureKeyHours,
  categoricalField,
  categoricalValue,
  categoryOfPlainDecimal,
  CsvRowFields,
  numericalField,
  numericalValue,
  parseCaptureLine,
  plainDecimal,
  type CaptureRecord,
} from '../domain/capture';
import { seededRandom } from '../domain/seeded-random';

type Payload = { observedContentType: string; mode: string; data: string; encoding: string };

function captureLine(input?: Payload, output?: Payload, metadata: Record<string, unknown> = {}): string {
  return JSON.stringify({
    captureData: { ...(input ? { endpointInput: input } : {}), ...(output ? { endpointOutput: output } : {}) },
    eventMetadata: { eventId: 'b7a1c2d3-0000-4000-8000-000000000001', inferenceTime: '2024-03-01T10:15:42Z', ...metadata },
    eventVersion: '0',
  });
}
const csv = (data: string): Payload => ({ observedContentType: 'text/csv', mode: 'INPUT', data, encoding: 'CSV' });
const base64 = (text: string | Buffer, contentType = 'text/csv'): Payload => ({
  observedContentType: contentType,
  mode: 'INPUT',
  data: Buffer.from(text).toString('base64'),
  encoding: 'BASE64',
});

function formatError(fn: () => unknown, field: string, detail: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof CaptureFormatError, `expected CaptureFormatError, got ${String(err)}`);
    assert.equal(err.field, field);
    assert.match(err.message, detail);
    return true;
  });
}

describe('parseCaptureLine', () => {
  it('reads a CSV-encoded record with its metadata and output', () => {
    const record = parseCaptureLine(
      captureLine(csv('5.1,3.5,1.4'), { observedContentType: 'text/csv; charset=utf-8', mode: 'OUTPUT', data: '0.87', encoding: 'CSV' }, { inferenceId: 'order-42' }),
    );
    assert.deepEqual(record, {
      eventId: 'b7a1c2d3-0000-4000-8000-000000000001',
      inferenceId: 'order-42',
      inferenceTime: '2024-03-01T10:15:42Z',
      input: { contentType: 'text/csv', encoding: 'CSV', text: '5.1,3.5,1.4', binary: false },
      output: { contentType: 'text/csv; charset=utf-8', encoding: 'CSV', text: '0.87', binary: false },
    });
  });

  it('decodes BASE64 payloads, including multi-byte UTF-8', () => {
    const record = parseCaptureLine(captureLine(base64('1,2,3\n4,5,6'), base64('{"label":"café"}', 'application/json')));
    assert.equal(record.input?.text, '1,2,3\n4,5,6');
    assert.equal(record.output?.text, '{"label":"café"}');
    assert.equal(record.inferenceId, undefined);
  });

  it('keeps a binary BASE64 payload out of text instead of mangling it', () => {
    const record = parseCaptureLine(captureLine(csv('1,2,3'), base64(Buffer.from([0x0a, 0xff, 0xfe, 0x00]), 'application/x-recordio-protobuf')));
    assert.deepEqual(record.output, { contentType: 'application/x-recordio-protobuf', encoding: 'BASE64', text: '', binary: true });
  });

  it('reads an output-only record', () => {
    assert.equal(parseCaptureLine(captureLine(undefined, csv('0.5'))).input, undefined);
  });

  it('names the missing or invalid field', () => {
    formatError(() => parseCaptureLine('{"captureData":'), '(line)', /not JSON/);
    formatError(() => parseCaptureLine('[1]'), '(line)', /must be a JSON object/);
    formatError(() => parseCaptureLine(JSON.stringify({ captureData: { endpointInput: csv('1') } })), 'eventMetadata', /missing/);
    formatError(() => parseCaptureLine(captureLine(csv('1'), undefined, { eventId: undefined })), 'eventMetadata.eventId', /missing/);
    formatError(() => parseCaptureLine(captureLine(csv('1'), undefined, { inferenceTime: 'yesterday' })), 'eventMetadata.inferenceTime', /not a timestamp: "yesterday"/);
    formatError(() => parseCaptureLine(captureLine(csv('1'), undefined, { inferenceId: 7 })), 'eventMetadata.inferenceId', /must be a string/);
    formatError(() => parseCaptureLine(captureLine()), 'captureData', /neither endpointInput nor endpointOutput/);
    formatError(() => parseCaptureLine(captureLine({ ...csv('1'), encoding: 'GZIP' })), 'captureData.endpointInput.encoding', /CSV, JSON or BASE64, got "GZIP"/);
    formatError(() => parseCaptureLine(captureLine({ ...csv('1'), observedContentType: '' })), 'captureData.endpointInput.observedContentType', /non-empty string/);
    formatError(() => parseCaptureLine(captureLine(undefined, { ...csv('1'), data: undefined as unknown as string })), 'captureData.endpointOutput.data', /missing/);
    formatError(() => parseCaptureLine(captureLine({ ...base64('1'), data: 'not*base64!' })), 'captureData.endpointInput.data', /not valid base64/);
  });
});

describe('captureFeatureRows', () => {
  const recordWith = (input: Payload): CaptureRecord => parseCaptureLine(captureLine(input));

  it('splits a CSV payload of several lines into rows, empty fields as missing', () => {
    assert.deepEqual(captureFeatureRows(recordWith(csv('1,2.5,-3\r\n4, ,"6"\n\n')), 3), [
      [1, 2.5, -3],
      [4, NaN, 6],
    ]);
  });

  it('reads base64 CSV and base64 JSON by content type', () => {
    assert.deepEqual(captureFeatureRows(recordWith(base64('7,8\n9,10')), 2), [
      [7, 8],
      [9, 10],
    ]);
    assert.deepEqual(captureFeatureRows(recordWith(base64('{"instances":[{"features":[1,2]}]}', 'application/json')), 2), [[1, 2]]);
    // No useful content type: JSON is recognised by its bracket.
    assert.deepEqual(captureFeatureRows(recordWith(base64('[[1,2],[3,4]]', 'application/octet-stream')), 2), [
      [1, 2],
      [3, 4],
    ]);
  });

  it('reads every JSON shape SageMaker containers accept', () => {
    const json = (data: string): Payload => ({ observedContentType: 'application/json', mode: 'INPUT', data, encoding: 'JSON' });
    assert.deepEqual(captureFeatureRows(recordWith(json('{"instances":[{"features":[1,2,3]},{"features":[4,null,"6"]}]}')), 3), [
      [1, 2, 3],
      [4, NaN, 6],
    ]);
    assert.deepEqual(captureFeatureRows(recordWith(json('{"instances":[[1,2,3]]}')), 3), [[1, 2, 3]]);
    assert.deepEqual(captureFeatureRows(recordWith(json('[[1,2,3],[4,5,6]]')), 3), [
      [1, 2, 3],
      [4, 5, 6],
    ]);
    assert.deepEqual(captureFeatureRows(recordWith(json('[1,2,3]')), 3), [[1, 2, 3]]);
    assert.deepEqual(captureFeatureRows(recordWith(json('{"features":[1,2,3]}')), 3), [[1, 2, 3]]);
  });

  it('rejects a row of the wrong width, naming the row', () => {
    formatError(() => captureFeatureRows(recordWith(csv('1,2,3\n4,5')), 3), 'input row 2', /has 2 values, expected 3 features/);
    const json: Payload = { observedContentType: 'application/json', mode: 'INPUT', data: '{"instances":[{"features":[1,2,3]},{"features":[1,2,3,4]}]}', encoding: 'JSON' };
    formatError(() => captureFeatureRows(recordWith(json), 3), 'input instance 2', /has 4 values, expected 3 features/);
  });

  it('rejects non-numeric values, malformed JSON, binary input and a missing input', () => {
    formatError(() => captureFeatureRows(recordWith(csv('1,abc,3')), 3), 'input row 1, column 2', /not a number: "abc"/);
    formatError(() => captureFeatureRows(recordWith({ ...csv('{"instances":'), observedContentType: 'application/json', encoding: 'JSON' }), 3), 'input', /is not JSON/);
    formatError(() => captureFeatureRows(recordWith({ ...csv('{"rows":[]}'), observedContentType: 'application/json', encoding: 'JSON' }), 3), 'input', /must be \{"instances"/);
    formatError(() => captureFeatureRows(recordWith(base64(Buffer.from([0xff, 0xfe]), 'application/x-recordio-protobuf')), 3), 'captureData.endpointInput.data', /binary/);
    formatError(() => captureFeatureRows(parseCaptureLine(captureLine(undefined, csv('0.5'))), 3), 'captureData.endpointInput', /missing in event/);
  });
});

describe('captureFieldRows and feature values, for profiling', () => {
  const recordWith = (input: Payload): CaptureRecord => parseCaptureLine(captureLine(input));

  it('keeps fields uninterpreted, with their row numbers, and refuses a request if any row is the wrong width', () => {
    assert.deepEqual(captureFieldRows(recordWith(csv('1,north, 2\n\n3,"south",\r\n')), 3), { format: 'csv', rows: [['1', 'north', ' 2'], ['3', '"south"', '']], positions: [1, 3] });
    const json: Payload = { observedContentType: 'application/json', mode: 'INPUT', data: '{"instances":[{"features":[1,"north",null]}]}', encoding: 'JSON' };
    assert.deepEqual(captureFieldRows(recordWith(json), 3), { format: 'json', rows: [[1, 'north', null]], positions: [1] });
    formatError(() => captureFieldRows(recordWith(csv('1,2,3\n4,5')), 3), 'input row 2', /has 2 values/);
  });

  it('reads a numerical value, or NaN (missing) when it is empty, null or not a number', () => {
    assert.deepEqual(['2.5', ' -3 ', '"6"', ' "1e3" ', '0', 7, 'Infinity'].map(numericalValue), [2.5, -3, 6, 1000, 0, 7, Infinity]);
    for (const missing of ['', '  ', '""', 'n/a', null, undefined, true]) assert.ok(Number.isNaN(numericalValue(missing)), String(missing));
  });

  it('reads a categorical value: numbers as their shortest decimal, text trimmed and unquoted, "" when missing', () => {
    assert.deepEqual([' north ', '"south"', '1.0', ' 2', 3, 0.5, true, 'N/A'].map(categoricalValue), ['north', 'south', '1', '2', '3', '0.5', 'true', 'N/A']);
    for (const missing of ['', ' ', '""', null, undefined, NaN]) assert.equal(categoricalValue(missing), '', String(missing));
  });
});

describe('captureKeyHours', () => {
  it('lists every UTC hour overlapping the window, across day, month and year ends', () => {
    assert.deepEqual(captureKeyHours('churn-prod', 'AllTraffic', new Date('2023-12-31T22:30:00Z'), new Date('2024-01-01T01:00:00Z')), [
      'churn-prod/AllTraffic/2023/12/31/22/',
      'churn-prod/AllTraffic/2023/12/31/23/',
      'churn-prod/AllTraffic/2024/01/01/00/',
      'churn-prod/AllTraffic/2024/01/01/01/',
    ]);
  });

  it('covers a 24-hour window with 24 or 25 prefixes depending on alignment', () => {
    assert.equal(captureKeyHours('e', 'v', new Date('2024-02-28T12:00:00Z'), new Date('2024-02-29T11:59:59Z')).length, 24);
    const unaligned = captureKeyHours('e', 'v', new Date('2024-02-28T12:30:00Z'), new Date('2024-02-29T12:30:00Z'));
    assert.equal(unaligned.length, 25);
    assert.equal(unaligned.at(-1), 'e/v/2024/02/29/12/', 'leap day');
  });

  it('gives one prefix for an instant and none for an inverted window', () => {
    const t = new Date('2024-03-01T10:15:42Z');
    assert.deepEqual(captureKeyHours('e', 'v', t, t), ['e/v/2024/03/01/10/']);
    assert.deepEqual(captureKeyHours('e', 'v', t, new Date('2024-03-01T09:00:00Z')), []);
    assert.throws(() => captureKeyHours('e', 'v', new Date('nope'), t), RangeError);
  });
});

// --- The fast path: CaptureLineScanner against parseCaptureLine ---------------------------------------------
// Profiling reads the usual line in place (CaptureLineScanner) and falls back to parseCaptureLine for the
// rest. Every line either declines the fast path or reads exactly as parseCaptureLine + captureFieldRows +
// numericalValue / categoricalValue read it; test/drift-fold.test.ts checks the same on whole folds.

/** A JSON writer that varies what JSON allows: key order, whitespace, escapes, duplicate and extra keys. */
function writeJson(value: unknown, random: () => number, options: { escapes: boolean; spaces: boolean; duplicates: boolean }): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const space = () => (options.spaces && random() < 0.3 ? pick([' ', '  ', '\t', '\r\n', '\n ', ' \r']) : '');
  const string = (text: string): string => {
    let out = '"';
    for (const ch of text) {
      const code = ch.codePointAt(0)!;
      if (ch === '"' || ch === '\\') out += `\\${ch}`;
      else if (code < 0x20) out += pick([`\\u${code.toString(16).padStart(4, '0')}`, JSON.stringify(ch).slice(1, -1)]);
      else if (options.escapes && random() < 0.02) out += ch === '/' ? '\\/' : ch.length === 1 ? `\\u${code.toString(16).padStart(4, random() < 0.5 ? '0' : '0').toUpperCase()}` : ch;
      else out += ch;
    }
    return `${out}"`;
  };
  const write = (v: unknown): string => {
    if (typeof v === 'string') return string(v);
    if (typeof v === 'number' || typeof v === 'boolean' || v === null) return JSON.stringify(v);
    if (Array.isArray(v)) return `[${space()}${v.map((x) => write(x)).join(`${space()},${space()}`)}${space()}]`;
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    if (random() < 0.3) entries.sort(() => random() - 0.5);
    const members = entries.map(([k, x]) => `${string(k)}${space()}:${space()}${write(x)}`);
    if (options.duplicates && entries.length > 0 && random() < 0.1) {
      // The same key again, with the same or another value (JSON.parse keeps the last).
      const [k, x] = pick(entries);
      const other = typeof x === 'string' ? pick([x, x.slice(1), '', `${x}0`, '2024-03-01T11:00:00Z', 'BASE64']) : random() < 0.5 ? x : {};
      members.splice(Math.floor(random() * (members.length + 1)), 0, `${string(k)}:${write(other)}`);
    }
    return `{${space()}${members.join(`${space()},${space()}`)}${space()}}`;
  };
  return `${space()}${write(value)}${space()}`;
}

const FEATURES = 4; // three numerical and a categorical, as csvRow is asked for four

function fieldText(random: () => number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 10)).join('');
  return pick([
    () => (random() * 200 - 100).toFixed(Math.floor(random() * 6)),
    () => String(Math.floor(random() * 30)),
    () => `${pick(['', '-'])}${digits(Math.floor(random() * 4))}.${digits(Math.floor(random() * 4))}`,
    () => `${pick(['', '-', '+'])}${digits(1 + Math.floor(random() * 25))}`,
    () => `0.${digits(20 + Math.floor(random() * 6))}`,
    () => `${digits(15)}${digits(Math.floor(random() * 4))}.${digits(Math.floor(random() * 8))}`,
    () => pick(['', ' ', '-', '.', '-.', '-0', '0', '00', '007', '1.', '.5', '1e3', '-1E-2', 'NaN', 'Infinity', '0x1A', 'n/a', '"4"', ' 2 ', '1.2.3', '9007199254740993', '9007199254740992', '4503599627370496.5']),
    () => pick(['1é', 'Ⅻ', '\u00a0', '٣', '\t1', '1\\2', 'north', '"south"']),
  ])();
}

function requestData(random: () => number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const row = (n: number) => Array.from({ length: n }, () => fieldText(random)).join(',');
  return pick([
    () => row(FEATURES),
    () => row(FEATURES),
    () => row(FEATURES),
    () => row(FEATURES - 1 + Math.floor(random() * 3)),
    () => `${row(FEATURES)}\n${row(FEATURES)}`,
    () => `${row(FEATURES)}\r\n`,
    () => pick(['', '   ', '\u00a0', ',,,']),
    () => JSON.stringify({ instances: [{ features: [1, 2, 3, 'x'] }] }),
    () => fieldText(random),
  ])();
}

function randomCaptureLine(random: () => number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  /** Mostly the usual value, sometimes one of the others. */
  const usually = <T>(usual: T, others: readonly T[]): T => (random() < 0.95 ? usual : pick(others));
  const data = requestData(random);
  const encoding = usually<unknown>('CSV', ['JSON', 'BASE64', 'csv', '', 5, null]);
  const payload = (text: string, mode: string) => ({
    observedContentType: usually<unknown>('text/csv', ['application/json', 'text/csv; charset=utf-8', 'application/octet-stream', 'TEXT/CSV', 'text/plain', '', 7]),
    mode,
    data: encoding === 'BASE64' ? Buffer.from(text).toString(random() < 0.9 ? 'base64' : 'hex') : usually<unknown>(text, [12, null]),
    encoding,
    ...(random() < 0.05 ? { extra: pick([[1, 'two', { three: null }], { nested: { deeper: [true, false, -1.5e-3] } }, 'x\\y', 0]) } : {}),
  });
  const record: Record<string, unknown> = {
    captureData: usually(
      () => ({ endpointInput: payload(data, 'INPUT'), endpointOutput: payload('0.5', 'OUTPUT') }),
      [() => ({ endpointInput: payload(data, 'INPUT') }), () => ({ endpointOutput: payload('0.5', 'OUTPUT') }), () => ({}), () => ({ endpointInput: null }), () => ({ endpointInput: payload(data, 'INPUT'), endpointOutput: 'text' })],
    )(),
    eventMetadata: {
      eventId: usually<unknown>('b7a1c2d3-0000-4000-8000-000000000001', ['é-1', '', undefined, 42]),
      inferenceTime: usually<unknown>('2024-03-01T10:15:42Z', ['2024-03-01T11:00:00.123Z', '2024-03-01T09:59:59Z', 'yesterday', '', undefined, 1709288142000]),
      inferenceId: usually<unknown>(undefined, ['order-42', '', 7, null]),
      ...(random() < 0.05 ? { customAttributes: pick(['a', { b: [1, 2] }]) } : {}),
    },
    eventVersion: usually<unknown>('0', [0, undefined]),
  };
  if (random() < 0.02) delete record[pick(['captureData', 'eventMetadata'])];
  let line = writeJson(record, random, { escapes: random() < 0.1, spaces: random() < 0.1, duplicates: random() < 0.1 });
  // Damage, now and then: cut short, a character changed or added, trailing text, a byte-order mark.
  const damage = random();
  if (damage < 0.04) line = line.slice(0, Math.floor(random() * line.length));
  else if (damage < 0.08) {
    const at = Math.floor(random() * line.length);
    line = line.slice(0, at) + pick(['"', '\\', ',', '}', '{', ':', '\u0001', 'x', ' ', ']', '\u00e9']) + line.slice(at + (random() < 0.5 ? 1 : 0));
  } else if (damage < 0.09) line += pick([' x', ',', '}', '\u00a0']);
  else if (damage < 0.1) line = `\ufeff${line}`;
  return line;
}

describe('CaptureLineScanner, the fast path for the usual line', () => {
  it('reads what parseCaptureLine reads, or declines, on 30,000 varied and damaged lines', () => {
    const random = seededRandom(20261124);
    const scanner = new CaptureLineScanner();
    let scanned = 0;
    let rows = 0;
    for (let n = 0; n < 30_000; n++) {
      const line = randomCaptureLine(random);
      let record: CaptureRecord | Error;
      try {
        record = parseCaptureLine(line);
      } catch (err) {
        record = err as Error;
      }
      if (!scanner.scan(line)) continue;
      scanned++;
      assert.ok(!(record instanceof Error), `the scanner accepted a line parseCaptureLine refuses (${(record as Error).message}): ${line}`);
      assert.equal(scanner.inferenceTime, Date.parse(record.inferenceTime), line);
      assert.equal(scanner.hasInput, record.input !== undefined, line);
      for (const width of [FEATURES, 1]) {
        if (!scanner.csvRow(width)) continue;
        let fieldRows: unknown[][];
        try {
          fieldRows = captureFieldRows(record, width).rows;
        } catch (err) {
          assert.fail(`csvRow accepted a request captureFieldRows refuses (${(err as Error).message}): ${line}`);
        }
        assert.equal(fieldRows.length, 1, line);
        rows++;
        fieldRows[0]!.forEach((field, i) => {
          assert.equal(scanner.text.slice(scanner.bounds[i]! + 1, scanner.bounds[i + 1]!), field, line);
          const value = scanner.values[i]!;
          if (!Number.isNaN(value)) {
            assert.ok(Object.is(value, numericalValue(field)), `field ${JSON.stringify(field)}: ${value}`);
            assert.equal(categoryOfPlainDecimal(value), categoricalValue(field), `field ${JSON.stringify(field)}`);
          }
        });
      }
    }
    // The fast path must be taken, not only be safe.
    assert.ok(scanned > 6_000, `${scanned} lines scanned`);
    assert.ok(rows > 4_000, `${rows} rows read in place`);
  });

  it('reads Model Monitor\'s own capture files in place', () => {
    const scanner = new CaptureLineScanner();
    const lines = readFileSync(path.join(__dirname, 'fixtures/model-monitor/churn-capture/capture.jsonl'), 'utf8').split('\n').filter(Boolean);
    for (const line of lines) {
      assert.ok(scanner.scan(line), line);
      assert.ok(scanner.csvRow(69), line);
    }
  });

  it('reads CSV fields in place as numericalValue and categoricalValue read them', () => {
    const random = seededRandom(7);
    for (let n = 0; n < 20_000; n++) {
      const field = fieldText(random);
      const text = `x,${field},y`;
      assert.ok(Object.is(numericalField(text, 2, 2 + field.length), numericalValue(field)), JSON.stringify(field));
      assert.equal(categoricalField(text, 2, 2 + field.length), categoricalValue(field), JSON.stringify(field));
    }
  });

  it('reads a CSV row in one pass (CsvRowFields) as the fields one by one read, whatever follows the row', () => {
    const random = seededRandom(11);
    const rows = new CsvRowFields();
    for (let n = 0; n < 5_000; n++) {
      // Up to 80 fields, past the reader's first 64; the row sits between other text, which starts with
      // digits so that reading past the row's end would show.
      const width = n % 50 === 0 ? 65 + Math.floor(random() * 16) : 1 + Math.floor(random() * 30);
      const fields = Array.from({ length: width }, () => fieldText(random));
      const row = fields.join(',');
      const before = `9,9\n`;
      const text = `${before}${row}${n % 2 === 0 ? '12345,6' : ''}`;
      const count = rows.read(text, before.length, before.length + row.length);
      assert.equal(count, width, JSON.stringify(row));
      fields.forEach((field, f) => {
        const start = rows.bounds[f]!;
        const end = rows.bounds[f + 1]! - 1;
        assert.equal(text.slice(start, end), field, `field ${f} of ${JSON.stringify(row)}`);
        assert.ok(Object.is(rows.values[f], plainDecimal(field, 0, field.length)), `field ${f}: ${JSON.stringify(field)} read as ${rows.values[f]}`);
      });
    }
    assert.equal(rows.read('', 0, 0), 1, 'an empty row is one empty field');
    assert.ok(Number.isNaN(rows.values[0]));
  });
});
