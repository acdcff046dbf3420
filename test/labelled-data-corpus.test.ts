// The bad-input corpus: each broken line gets its exact code, and a reason that says where it broke
// (column, field path, byte) so a person can find it in the quarantine without opening the object.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DatasetSchema } from '../domain/config';
import {
  LABELLED_DATA_CODES,
  joinCapturedWithGroundTruth,
  labelledDataOptions,
  readLabelledLine,
  type LabelledDataCode,
  type LabelledDataFormat,
  type LabelledDataInputOptions,
  type RecordVerdict,
} from '../domain/labelled-data';

const schema: DatasetSchema = {
  label: { name: 'churn', classes: 2 },
  features: [
    { name: 'account_length', type: 'numerical' },
    { name: 'day_mins', type: 'numerical' },
    { name: 'eve_mins', type: 'numerical' },
    { name: 'cust_serv_calls', type: 'categorical' },
  ],
};
const named: DatasetSchema = { ...schema, label: { ...schema.label, classNames: ['stays', 'churns'] } };
const regression: DatasetSchema = { ...schema, label: { name: 'spend' } };

interface Case {
  name: string;
  format: LabelledDataFormat;
  line: string | Uint8Array;
  code: LabelledDataCode;
  /** The part of the reason that locates the fault. */
  where: RegExp;
  schema?: DatasetSchema;
  options?: LabelledDataInputOptions;
}

const json = (value: unknown) => JSON.stringify(value);
const good = { churn: 1, account_length: 128, day_mins: 265.1, eve_mins: 197.4, cust_serv_calls: 1 };
const manifestLine = (overrides: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}) =>
  json({
    source: '128,265.1,197.4,1',
    account_length: 128,
    day_mins: 265.1,
    eve_mins: 197.4,
    cust_serv_calls: 1,
    'churn-review': 1,
    'churn-review-metadata': { 'class-name': 'churns', confidence: 0.95, type: 'groundtruth/text-classification', 'job-name': 'labeling-job/churn-review', 'human-annotated': 'yes', 'creation-date': '2024-05-03T10:00:01.123456', ...metadata },
    ...overrides,
  });
const manifest = { format: 'ground-truth-manifest' as const, schema: named, options: { fields: { label: 'churn-review' } } };
const bytes = (...parts: (string | number[])[]) => new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...new TextEncoder().encode(p)] : p)));

const corpus: Case[] = [
  // The line itself
  { name: 'a byte that is not UTF-8', format: 'csv', line: bytes('1,128,', [0xff], ',197.4,1'), code: 'not_utf8', where: /^byte 7 \(0xff\) does not start a valid UTF-8 sequence$/ },
  { name: 'an overlong UTF-8 encoding of "/"', format: 'jsonl', line: bytes('{"churn":', [0xc0, 0xaf], '}'), code: 'not_utf8', where: /^byte 10 \(0xc0\)/ },
  { name: 'Latin-1 text decoded leniently upstream (U+FFFD)', format: 'csv', line: '1,128,265.1,197.4,caf\uFFFD', code: 'not_utf8', where: /^column 22 is U\+FFFD/ },
  { name: 'a huge line (2 MiB, over the 1 MiB default)', format: 'csv', line: `1,${'9'.repeat(2 * 1024 * 1024)},1,1,1`, code: 'line_too_long', where: /^the line is 2097160 bytes, over input\.maxLineBytes \(1048576\)$/ },
  { name: 'a line over a configured maximum, counted in UTF-8 bytes', format: 'jsonl', line: json({ ...good, note: 'é'.repeat(100) }), options: { maxLineBytes: 256 }, code: 'line_too_long', where: /^the line is 296 bytes, over input\.maxLineBytes \(256\)$/ },
  { name: 'a blank line', format: 'jsonl', line: '  \t', code: 'empty_line', where: /^the line is blank$/ },
  // JSON syntax
  { name: 'truncated JSON', format: 'jsonl', line: '{"churn":1,"account_length":12', code: 'truncated_json', where: /^the line stops after column 30 in the middle of a JSON value, expecting ',' or '}'/ },
  { name: 'truncated inside a string', format: 'jsonl', line: '{"churn":1,"note":"cut her', code: 'truncated_json', where: /^the line stops after column 26 .* expecting a closing quote/ },
  { name: 'single-quoted JSON', format: 'jsonl', line: "{'churn':1}", code: 'invalid_json', where: /^the line is not valid JSON at column 2: expected a double-quoted property name, found "'"/ },
  { name: 'NaN in JSON', format: 'jsonl', line: '{"churn":1,"day_mins":NaN}', code: 'invalid_json', where: /at column 23: expected a value .* found "N"/ },
  { name: 'Infinity in JSON', format: 'jsonl', line: '{"churn":1,"day_mins":-Infinity}', code: 'invalid_json', where: /at column 24: expected a digit, found "I"/ },
  { name: 'two objects on one line', format: 'jsonl', line: '{"churn":1} {"churn":0}', code: 'invalid_json', where: /at column 13: expected the end of the line after the JSON value/ },
  { name: 'a trailing comma', format: 'jsonl', line: '{"churn":1,}', code: 'invalid_json', where: /at column 12: expected a double-quoted property name/ },
  { name: 'an array instead of an object', format: 'jsonl', line: '[1,128,265.1,197.4,1]', code: 'not_an_object', where: /^the line is an array of 5, expected one JSON object per line$/ },
  { name: 'a bare number', format: 'jsonl', line: '42', code: 'not_an_object', where: /^the line is the number 42/ },
  { name: 'an empty object', format: 'jsonl', line: '{}', code: 'empty_record', where: /^the line is an empty object \{\}/ },
  // CSV values
  { name: 'extra columns', format: 'csv', line: '1,128,265.1,197.4,1,9,9', code: 'wrong_width', where: /^expected 5 columns \(label \+ 4 features\), got 7: column 6 onwards is extra \("9,9"\)$/ },
  { name: 'missing columns', format: 'csv', line: '1,128,265.1', code: 'wrong_width', where: /got 3: column 4 onwards \(feature "eve_mins" on\) is missing$/ },
  { name: 'NaN text in CSV', format: 'csv', line: '1,128,NaN,197.4,1', code: 'not_a_number', where: /^column 3 \(feature "day_mins"\) is "NaN"/ },
  { name: 'Infinity text in CSV', format: 'csv', line: '1,128,265.1,Infinity,1', code: 'not_a_number', where: /^column 4 \(feature "eve_mins"\) is "Infinity"/ },
  { name: 'a hex number in CSV', format: 'csv', line: '1,0x1f,265.1,197.4,1', code: 'not_a_number', where: /^column 2 \(feature "account_length"\) is "0x1f"/ },
  { name: 'an empty CSV value', format: 'csv', line: '1,128,,197.4,1', code: 'missing_value', where: /^column 3 \(feature "day_mins"\) is empty$/ },
  { name: 'a missing CSV label', format: 'csv', line: ',128,265.1,197.4,1', code: 'missing_label', where: /^column 1 \(label "churn"\) is empty$/ },
  { name: 'a CSV label out of range', format: 'csv', line: '2,128,265.1,197.4,1', code: 'bad_label', where: /^column 1 \(label "churn"\) is 2, not a class in 0\.\.1$/ },
  { name: 'a CSV label that is not a number', format: 'csv', line: 'yes,128,265.1,197.4,1', code: 'bad_label', where: /^column 1 \(label "churn"\) is "yes", not a finite number/ },
  { name: 'an unknown class name in CSV', format: 'csv', line: 'perhaps,128,265.1,197.4,1', schema: named, code: 'unknown_class', where: /^column 1 \(label "churn"\) is "perhaps", not one of the schema's classes: stays, churns$/ },
  { name: 'a NaN regression target', format: 'csv', line: 'NaN,128,265.1,197.4,1', schema: regression, code: 'bad_label', where: /^column 1 \(label "spend"\) is "NaN", not a finite number$/ },
  // JSON values
  { name: 'a missing label', format: 'jsonl', line: json({ ...good, churn: undefined }), code: 'missing_label', where: /^field "churn" \(the label\) is missing$/ },
  { name: 'a null label', format: 'jsonl', line: json({ ...good, churn: null }), code: 'missing_label', where: /^field "churn" \(the label\) is null$/ },
  { name: 'a label out of range', format: 'jsonl', line: json({ ...good, churn: 3 }), code: 'bad_label', where: /^field "churn" \(the label\) is 3, not a class in 0\.\.1$/ },
  { name: 'a fractional class', format: 'jsonl', line: json({ ...good, churn: 0.5 }), code: 'bad_label', where: /^field "churn" \(the label\) is 0\.5, not a class/ },
  { name: 'an unknown class name', format: 'jsonl', line: json({ ...good, churn: 'perhaps' }), schema: named, code: 'unknown_class', where: /^field "churn" \(the label\) is "perhaps", not one of the schema's classes/ },
  { name: 'a label that is an object', format: 'jsonl', line: json({ ...good, churn: { value: 1 } }), code: 'wrong_type', where: /^field "churn" \(the label\) is an object, expected a number$/ },
  { name: 'a number written as a string', format: 'jsonl', line: json({ ...good, day_mins: '265.1' }), code: 'wrong_type', where: /^field "day_mins" is the string "265\.1", expected a number$/ },
  { name: 'a categorical feature given as text', format: 'jsonl', line: json({ ...good, cust_serv_calls: 'often' }), code: 'wrong_type', where: /^field "cust_serv_calls" is the string "often", expected a number \(a categorical feature needs its numeric code\)$/ },
  { name: 'a boolean feature', format: 'jsonl', line: json({ ...good, eve_mins: true }), code: 'wrong_type', where: /^field "eve_mins" is true, expected a number$/ },
  { name: 'a null feature', format: 'jsonl', line: json({ ...good, eve_mins: null }), code: 'missing_value', where: /^field "eve_mins" is null$/ },
  { name: 'a missing feature field', format: 'jsonl', line: json({ ...good, cust_serv_calls: undefined }), code: 'missing_value', where: /^field "cust_serv_calls" is missing$/ },
  { name: 'a number too large for a double', format: 'jsonl', line: '{"churn":1,"account_length":1e999,"day_mins":1,"eve_mins":1,"cust_serv_calls":1}', code: 'not_a_number', where: /^field "account_length" is too large for a double/ },
  { name: 'a feature array too short', format: 'jsonl', line: json({ churn: 1, x: [128, 265.1, 197.4] }), options: { fields: { features: 'x' } }, code: 'wrong_width', where: /^field "x" has 3 values, expected 4 \(account_length, day_mins, eve_mins, cust_serv_calls\)$/ },
  { name: 'a string inside the feature array', format: 'jsonl', line: json({ churn: 1, x: [128, '265.1', 197.4, 1] }), options: { fields: { features: 'x' } }, code: 'wrong_type', where: /^x\[1\] \(feature "day_mins"\) is the string "265\.1"/ },
  { name: 'a missing de-duplication key', format: 'jsonl', line: json(good), options: { fields: { key: 'id' } }, code: 'missing_key', where: /^field "id" \(the de-duplication key\) is missing$/ },
  { name: 'a key that is an object', format: 'jsonl', line: json({ ...good, id: { n: 1 } }), options: { fields: { key: 'id' } }, code: 'wrong_type', where: /^field "id" \(the de-duplication key\) is an object/ },
  { name: 'a time that is not ISO 8601', format: 'jsonl', line: json({ ...good, at: 'yesterday' }), options: { fields: { time: 'at' } }, code: 'bad_time', where: /^field "at" \(the time\) is "yesterday", not an ISO 8601 time$/ },
  { name: 'a day that does not exist', format: 'jsonl', line: json({ ...good, at: '2024-02-30T10:00:00Z' }), options: { fields: { time: 'at' } }, code: 'bad_time', where: /^field "at" \(the time\) is "2024-02-30T10:00:00Z"/ },
  // Ground Truth manifests
  { name: 'a manifest line without source', ...manifest, line: manifestLine({ source: undefined }), code: 'missing_source', where: /^the line has neither "source" nor "source-ref" \(it has "account_length", /, },
  { name: 'metadata with confidence as a string', ...manifest, line: manifestLine({}, { confidence: '0.95' }), code: 'wrong_type', where: /^"churn-review-metadata"\."confidence" is the string "0\.95", expected a number$/ },
  { name: 'human-annotated that is not yes or no', ...manifest, line: manifestLine({}, { 'human-annotated': true }), code: 'wrong_type', where: /^"churn-review-metadata"\."human-annotated" is true, expected "yes" or "no"$/ },
  { name: 'a label attribute without metadata', ...manifest, line: manifestLine({ 'churn-review-metadata': undefined }), code: 'missing_metadata', where: /^label attribute "churn-review" has no "churn-review-metadata" beside it$/ },
  { name: 'metadata that is a string', ...manifest, line: manifestLine({ 'churn-review-metadata': 'yes' }), code: 'wrong_type', where: /^"churn-review-metadata" is the string "yes", expected an object$/ },
  { name: 'a multi-label classification', ...manifest, line: manifestLine({ 'churn-review': [1, 0] }, { type: 'groundtruth/text-classification-multilabel' }), code: 'unsupported_task_type', where: /^label attribute "churn-review" is an array of 2 \(groundtruth\/text-classification-multilabel\)/ },
  { name: 'a class name the schema does not list', ...manifest, line: manifestLine({}, { 'class-name': 'perhaps' }), code: 'unknown_class', where: /^"churn-review-metadata"\."class-name" is "perhaps", not one of the schema's classes: stays, churns$/ },
  { name: 'a creation-date that is not a time', ...manifest, line: manifestLine({}, { 'creation-date': '03/05/2024' }), code: 'bad_time', where: /^"churn-review-metadata"\."creation-date" is "03\/05\/2024", not an ISO 8601 time$/ },
  { name: 'a job-name that is a number', ...manifest, line: manifestLine({}, { 'job-name': 7 }), code: 'wrong_type', where: /^"churn-review-metadata"\."job-name" is the number 7, expected a string$/ },
  { name: 'source that is not a string', ...manifest, line: manifestLine({ source: 128 }), code: 'wrong_type', where: /^"source" is the number 128, expected a string$/ },
  { name: 'features from source, but only source-ref', ...manifest, options: { ...manifest.options, featuresFrom: 'source' }, line: manifestLine({ source: undefined, 'source-ref': 's3://b/row-1.csv' }), code: 'missing_source', where: /^featuresFrom is "source", but the line has only "source-ref" \("s3:\/\/b\/row-1\.csv"\)/ },
  { name: 'a source row with a missing column', ...manifest, options: { ...manifest.options, featuresFrom: 'source' }, line: manifestLine({ source: '128,265.1,197.4' }), code: 'wrong_width', where: /^"source" is the string "128,265\.1,197\.4": 3 comma-separated values, expected 4 features/ },
  { name: 'a source row with a word in it', ...manifest, options: { ...manifest.options, featuresFrom: 'source' }, line: manifestLine({ source: '128,lots,197.4,1' }), code: 'not_a_number', where: /^"source" column 2 \(feature "day_mins"\) is "lots"/ },
  { name: 'an empty manifest object', ...manifest, line: '{}', code: 'empty_record', where: /empty object/ },
  // Label-quality filters
  { name: 'a label below the minimum confidence', ...manifest, options: { ...manifest.options, labelQuality: { minConfidence: 0.99 } }, line: manifestLine(), code: 'low_confidence', where: /^"churn-review-metadata"\."confidence" is 0\.95, below labelQuality\.minConfidence 0\.99$/ },
  { name: 'no confidence when a minimum is set', ...manifest, options: { ...manifest.options, labelQuality: { minConfidence: 0.5 } }, line: manifestLine({}, { confidence: undefined }), code: 'low_confidence', where: /^"churn-review-metadata"\."confidence" is missing; keeping a label needs labelQuality\.minConfidence 0\.5$/ },
  { name: 'an automated label when only human ones are kept', ...manifest, options: { ...manifest.options, labelQuality: { humanAnnotatedOnly: true } }, line: manifestLine({}, { 'human-annotated': 'no' }), code: 'not_human_annotated', where: /^"churn-review-metadata"\."human-annotated" is "no"/ },
  { name: 'a label from a job not allowed', ...manifest, options: { ...manifest.options, labelQuality: { allowedJobNames: ['churn-review-v2'] } }, line: manifestLine(), code: 'job_not_allowed', where: /^"churn-review-metadata"\."job-name" is "labeling-job\/churn-review", not in labelQuality\.allowedJobNames \(churn-review-v2\)$/ },
];

describe('bad-input corpus: every broken line gets its code and a located reason', () => {
  it(`holds at least 20 cases (${corpus.length}), covering every code a single line can get`, () => {
    assert.ok(corpus.length >= 20);
    const joinOnly = new Set(['bad_capture', 'bad_ground_truth', 'ambiguous_capture', 'duplicate_capture', 'duplicate_label', 'conflicting_label', 'no_label_yet', 'unmatched_label']);
    const covered = new Set(corpus.map((c) => c.code));
    const missing = Object.keys(LABELLED_DATA_CODES).filter((code) => !joinOnly.has(code) && !covered.has(code as LabelledDataCode));
    assert.deepEqual(missing, []);
  });

  for (const c of corpus) {
    it(`${c.format}: ${c.name} → ${c.code}`, () => {
      const source = { uri: 's3://new-data/batch.jsonl', line: 17 };
      const options = labelledDataOptions({ format: c.format, ...c.options });
      const verdict = readLabelledLine(c.format, c.line, { schema: c.schema ?? schema, source, options });
      assert.ok(!verdict.ok, 'rejected');
      assert.equal(verdict.code, c.code, verdict.reason);
      assert.match(verdict.reason, c.where);
      assert.deepEqual(verdict.source, source);
      assert.ok(verdict.line.length > 0 && verdict.line.length <= 1000, 'the quarantine keeps the line, shortened when huge');
    });
  }

  it('the same line, repaired, is read', () => {
    const options = labelledDataOptions({ format: 'jsonl' });
    const verdict = readLabelledLine('jsonl', json(good), { schema, source: { uri: 'u', line: 1 }, options });
    assert.deepEqual(verdict, { ok: true, record: { features: [128, 265.1, 197.4, 1], label: 1, source: { uri: 'u', line: 1 } } });
  });
});

describe('bad Model Monitor ground-truth records', () => {
  const cases: { name: string; line: string; code: LabelledDataCode; where: RegExp }[] = [
    { name: 'an encoding Model Monitor does not write', line: json({ groundTruthData: { data: 'MQ==', encoding: 'BASE64' }, eventMetadata: { eventId: 'e1' } }), code: 'bad_ground_truth', where: /^"groundTruthData"\."encoding" is the string "BASE64", expected "CSV" or "JSON"$/ },
    { name: 'no eventMetadata', line: json({ groundTruthData: { data: '1', encoding: 'CSV' } }), code: 'bad_ground_truth', where: /^"eventMetadata" is missing$/ },
    { name: 'an eventId that is a number', line: json({ groundTruthData: { data: '1', encoding: 'CSV' }, eventMetadata: { eventId: 7 } }), code: 'bad_ground_truth', where: /^"eventMetadata"\."eventId" is the number 7/ },
    { name: 'data that is not a string', line: json({ groundTruthData: { data: 1, encoding: 'CSV' }, eventMetadata: { eventId: 'e1' } }), code: 'bad_ground_truth', where: /^"groundTruthData"\."data" is the number 1, expected a string$/ },
    { name: 'two CSV values where one label goes', line: json({ groundTruthData: { data: '1,0', encoding: 'CSV' }, eventMetadata: { eventId: 'e1' } }), code: 'wrong_width', where: /^"groundTruthData"\."data" has 2 CSV values, expected 1 \(the label\)$/ },
    { name: 'JSON data cut short', line: json({ groundTruthData: { data: '{"churn": 1', encoding: 'JSON' }, eventMetadata: { eventId: 'e1' } }), code: 'truncated_json', where: /^"groundTruthData"\."data" stops after column 11/ },
    { name: 'a JSON label out of range', line: json({ groundTruthData: { data: '{"churn": 4}', encoding: 'JSON' }, eventMetadata: { eventId: 'e1' } }), code: 'bad_label', where: /^"groundTruthData"\."data" field "churn" is 4, not a class in 0\.\.1$/ },
    { name: 'the line is not JSON', line: 'groundTruthData=1', code: 'invalid_json', where: /^the line is not valid JSON at column 1/ },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.code}`, async () => {
      const options = labelledDataOptions({ format: 'model-monitor-ground-truth' });
      const verdicts: RecordVerdict[] = [];
      for await (const v of joinCapturedWithGroundTruth([], [{ line: c.line, source: { uri: 'gt', line: 3 } }], { schema, options })) verdicts.push(v);
      assert.equal(verdicts.length, 1);
      const [verdict] = verdicts;
      assert.ok(verdict && !verdict.ok);
      assert.equal(verdict.code, c.code, verdict.reason);
      assert.match(verdict.reason, c.where);
      assert.deepEqual(verdict.source, { uri: 'gt', line: 3 });
    });
  }
});
