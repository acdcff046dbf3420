import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CaptureFormatError, captureFeatureRows, captureFieldRows, captureKeyHours, categoricalValue, numericalValue, parseCaptureLine, type CaptureRecord } from '../domain/capture';

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
