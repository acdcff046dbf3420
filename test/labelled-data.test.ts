// Labelled data in each input format reads to the same records; published Ground Truth manifests read
// as their jobs meant; label-quality filters turn rows away with their own codes; captured traffic
// joins its later labels with every line accounted for.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidConfigError, parsePipelineConfig, type DatasetSchema } from '../domain/config';
import { demoConfig } from '../local/demo-data';
import {
  joinCapturedWithGroundTruth,
  labelledDataOptions,
  parseIsoTime,
  readLabelledLine,
  type LabelledDataFormat,
  type LabelledDataInputOptions,
  type LabelledLine,
  type RecordVerdict,
} from '../domain/labelled-data';

const fixtures = join(__dirname, 'fixtures');
const lines = (path: string) => readFileSync(join(fixtures, path), 'utf8').split('\n').filter((l) => l !== '');

function readAll(format: LabelledDataFormat, path: string, schema: DatasetSchema, options: LabelledDataInputOptions = {}): RecordVerdict[] {
  const opts = labelledDataOptions({ format, ...options });
  return lines(path).map((line, i) => readLabelledLine(format, line, { schema, source: { uri: `s3://fixtures/${path}`, line: i + 1 }, options: opts }));
}

const okRecords = (verdicts: RecordVerdict[]) => verdicts.flatMap((v) => (v.ok ? [v.record] : []));
const codes = (verdicts: RecordVerdict[]) => verdicts.map((v) => (v.ok ? 'ok' : v.code));

const churn: DatasetSchema = {
  label: { name: 'churn', classes: 2 },
  features: [
    { name: 'account_length', type: 'numerical' },
    { name: 'day_mins', type: 'numerical' },
    { name: 'eve_mins', type: 'numerical' },
    { name: 'cust_serv_calls', type: 'numerical' },
  ],
};
const churnNamed: DatasetSchema = { ...churn, label: { name: 'churn', classes: 2, classNames: ['stays', 'churns'] } };
const churnRows = [
  { label: 0, features: [128, 265.1, 197.4, 1] },
  { label: 0, features: [107, 161.6, 195.5, 1] },
  { label: 0, features: [137, 243.4, 121.2, 0] },
  { label: 1, features: [84, 299.4, 61.9, 2] },
  { label: 1, features: [75, 166.7, 148.3, 3] },
  { label: 0, features: [118, 223.4, 220.6, 0] },
];
const strip = (r: { label: number; features: number[] }) => ({ label: r.label, features: r.features });

describe('CSV, JSON Lines and a Ground Truth manifest of the same rows', () => {
  it('CSV: label first, features in schema order, located by line', () => {
    const verdicts = readAll('csv', 'labelled-data/churn.csv', churn);
    assert.deepEqual(okRecords(verdicts).map(strip), churnRows);
    assert.deepEqual(okRecords(verdicts)[3]!.source, { uri: 's3://fixtures/labelled-data/churn.csv', line: 4 });
    assert.equal(okRecords(verdicts)[0]!.key, undefined);
  });

  it('JSON Lines: fields by schema name, with a configured key and time', () => {
    const verdicts = readAll('jsonl', 'labelled-data/churn.jsonl', churn, { fields: { key: 'id', time: 'labelled_at' } });
    const records = okRecords(verdicts);
    assert.deepEqual(records.map(strip), churnRows);
    assert.equal(records[0]!.key, 'acct-0001');
    assert.equal(records[0]!.time, '2024-05-02T09:15:00.000Z');
  });

  it('JSON Lines: renamed fields, and all features in one array field', () => {
    const schema: DatasetSchema = { ...churn, label: { name: 'churned', classes: 2 } };
    const options = labelledDataOptions({ format: 'jsonl', fields: { label: 'target.value', features: 'x' } });
    const read = (line: string) => readLabelledLine('jsonl', line, { schema, source: { uri: 'u', line: 1 }, options });
    assert.deepEqual(read('{"x":[1,2,3,4],"target":{"value":1}}'), { ok: true, record: { features: [1, 2, 3, 4], label: 1, source: { uri: 'u', line: 1 } } });
    const mapped = labelledDataOptions({ format: 'jsonl', fields: { features: { day_mins: 'minutes.day' } } });
    const verdict = readLabelledLine('jsonl', '{"churn":true,"account_length":1,"minutes":{"day":2.5},"eve_mins":3,"cust_serv_calls":4}', {
      schema: churn,
      source: { uri: 'u', line: 1 },
      options: mapped,
    });
    assert.deepEqual(verdict.ok && strip(verdict.record), { label: 1, features: [1, 2.5, 3, 4] }, 'true is class 1 of a two-class label');
  });

  it('a Ground Truth manifest reads the same rows, features from fields or from source', () => {
    const fromFields = readAll('ground-truth-manifest', 'labelled-data/churn-review-output.manifest', churnNamed, { fields: { label: 'churn-review', key: 'id' } });
    const fromSource = readAll('ground-truth-manifest', 'labelled-data/churn-review-output.manifest', churnNamed, { fields: { label: 'churn-review' }, featuresFrom: 'source' });
    assert.deepEqual(okRecords(fromFields).map(strip), churnRows);
    assert.deepEqual(okRecords(fromSource).map(strip), churnRows);
    const first = okRecords(fromFields)[0]!;
    assert.equal(first.key, 'acct-0001');
    assert.equal(first.time, '2024-05-03T10:00:01.123Z', 'creation-date has no zone: read as UTC, to the millisecond');
    assert.deepEqual(first.quality, { confidence: 0.95, humanAnnotated: true, jobName: 'labeling-job/churn-review' });
    assert.deepEqual(okRecords(fromFields)[3]!.quality, { confidence: 0.88, humanAnnotated: false, jobName: 'labeling-job/churn-review' });
  });

  it('class names decide the class, whatever index the labelling job gave it', () => {
    const reversed: DatasetSchema = { ...churn, label: { name: 'churn', classes: 2, classNames: ['churns', 'stays'] } };
    const verdicts = readAll('ground-truth-manifest', 'labelled-data/churn-review-output.manifest', reversed, { fields: { label: 'churn-review' } });
    assert.deepEqual(
      okRecords(verdicts).map((r) => r.label),
      churnRows.map((r) => 1 - r.label),
    );
  });
});

describe('published Ground Truth output manifests', () => {
  const vehicles: DatasetSchema = {
    label: { name: 'vehicle', classes: 5, classNames: ['Airplane', 'Car', 'Ferry', 'Helicopter', 'Motorbike'] },
    features: [{ name: 'x', type: 'numerical' }],
  };
  // The published lines carry no tabular features (they label images); each test line gets one
  // numeric field so the reader has features to read, and is otherwise as published.
  const withFeature = (path: string) => lines(path).map((line) => line.replace(/^\{/, '{"x":1,'));
  const readVehicles = (options: LabelledDataInputOptions) => {
    const opts = labelledDataOptions({ format: 'ground-truth-manifest', fields: { label: 'vehicle-labeling-demo' }, ...options });
    return withFeature('ground-truth/vehicle-labeling-demo-output.manifest').map((line, i) =>
      readLabelledLine('ground-truth-manifest', line, { schema: vehicles, source: { uri: 'vehicles', line: i + 1 }, options: opts }),
    );
  };

  it('an image classification job: labels by class name, confidence, job and creation date as written', () => {
    const records = okRecords(readVehicles({}));
    assert.equal(records.length, 10);
    assert.deepEqual(
      records.map((r) => r.label),
      [3, 2, 2, 0, 3, 0, 1, 0, 4, 4],
    );
    assert.deepEqual(records[2]!.quality, { confidence: 0.54, humanAnnotated: true, jobName: 'labeling-job/vehicle-labeling-demo' });
    assert.equal(records[2]!.time, '2023-03-08T19:34:20.591Z');
  });

  it('minimum confidence drops exactly the labels below it, each with its own reason', () => {
    const verdicts = readVehicles({ labelQuality: { minConfidence: 0.9 } });
    assert.deepEqual(codes(verdicts), ['ok', 'ok', 'low_confidence', 'low_confidence', 'ok', 'ok', 'ok', 'ok', 'ok', 'low_confidence']);
    const third = verdicts[2]!;
    assert.ok(!third.ok);
    assert.equal(third.reason, '"vehicle-labeling-demo-metadata"."confidence" is 0.54, below labelQuality.minConfidence 0.9');
    assert.deepEqual(third.source, { uri: 'vehicles', line: 3 });
  });

  it('the job allow-list matches job-name with or without its labeling-job/ prefix', () => {
    assert.ok(readVehicles({ labelQuality: { allowedJobNames: ['vehicle-labeling-demo'] } }).every((v) => v.ok));
    assert.ok(readVehicles({ labelQuality: { allowedJobNames: ['labeling-job/vehicle-labeling-demo'] } }).every((v) => v.ok));
    const refused = readVehicles({ labelQuality: { allowedJobNames: ['ships-only'] } });
    assert.ok(refused.every((v) => !v.ok && v.code === 'job_not_allowed'));
    assert.ok(!refused[0]!.ok && refused[0]!.reason.includes('"vehicle-labeling-demo-metadata"."job-name" is "labeling-job/vehicle-labeling-demo"'));
  });

  it("AWS's own example: labels as numeric strings; a line for another attribute is missing_label, naming what it has", () => {
    const mood: DatasetSchema = { label: { name: 'mood', classes: 2, classNames: ['negative', 'positive'] }, features: [{ name: 'x', type: 'numerical' }] };
    const opts = labelledDataOptions({ format: 'ground-truth-manifest' });
    const [image, text] = withFeature('ground-truth/featurestore-output.manifest').map((line, i) =>
      readLabelledLine('ground-truth-manifest', line, { schema: mood, source: { uri: 'featurestore', line: i + 1 }, options: opts }),
    );
    assert.ok(image && !image.ok);
    assert.equal(image.code, 'missing_label');
    assert.match(image.reason, /no label attribute "mood" \(the line has "x", "source-ref", "species", "species-metadata"\)/);
    assert.ok(text?.ok);
    assert.deepEqual(strip(text.record), { label: 1, features: [1] });
    assert.deepEqual(text.record.quality, { confidence: 0.8, humanAnnotated: true, jobName: 'label-sentiment' });
  });

  it('the same text line read with featuresFrom source: its text is not a CSV row of numbers', () => {
    const mood: DatasetSchema = { label: { name: 'mood', classes: 2 }, features: [{ name: 'x', type: 'numerical' }] };
    const opts = labelledDataOptions({ format: 'ground-truth-manifest', featuresFrom: 'source' });
    const verdict = readLabelledLine('ground-truth-manifest', lines('ground-truth/featurestore-output.manifest')[1]!, { schema: mood, source: { uri: 'f', line: 2 }, options: opts });
    assert.ok(!verdict.ok);
    assert.equal(verdict.code, 'not_a_number');
    assert.equal(verdict.reason, '"source" column 1 (feature "x") is "The food was delicious", not a finite decimal number');
  });

  it('a bounding-box job is refused as unsupported_task_type, not guessed at', () => {
    const cats: DatasetSchema = { label: { name: 'cat-ground-truth', classes: 2 }, features: [{ name: 'x', type: 'numerical' }] };
    const opts = labelledDataOptions({ format: 'ground-truth-manifest' });
    const verdicts = withFeature('ground-truth/cat-object-detection-output.manifest').map((line, i) =>
      readLabelledLine('ground-truth-manifest', line, { schema: cats, source: { uri: 'cats', line: i + 1 }, options: opts }),
    );
    assert.deepEqual(codes(verdicts), ['unsupported_task_type', 'unsupported_task_type', 'unsupported_task_type', 'unsupported_task_type']);
    assert.ok(!verdicts[1]!.ok && verdicts[1]!.reason.startsWith('label attribute "cat-ground-truth" is an object (groundtruth/object-detection)'));
  });
});

describe('label-quality filters on a manifest', () => {
  const read = (labelQuality: LabelledDataInputOptions['labelQuality']) =>
    codes(readAll('ground-truth-manifest', 'labelled-data/churn-review-output.manifest', churnNamed, { fields: { label: 'churn-review' }, labelQuality }));

  it('each filter drops its rows with its own code, and the rest pass', () => {
    assert.deepEqual(read({}), ['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
    assert.deepEqual(read({ minConfidence: 0.7 }), ['ok', 'ok', 'low_confidence', 'ok', 'ok', 'low_confidence']);
    assert.deepEqual(read({ humanAnnotatedOnly: true }), ['ok', 'ok', 'ok', 'not_human_annotated', 'ok', 'ok']);
    assert.deepEqual(read({ allowedJobNames: ['churn-review'] }), ['ok', 'ok', 'ok', 'ok', 'job_not_allowed', 'ok']);
    assert.deepEqual(read({ minConfidence: 0.7, humanAnnotatedOnly: true, allowedJobNames: ['churn-review'] }), [
      'ok',
      'ok',
      'low_confidence',
      'not_human_annotated',
      'job_not_allowed',
      'low_confidence',
    ]);
  });
});

describe('captured traffic joined with Model Monitor ground truth', () => {
  // The churn example's captured requests (69 CSV features, no header): a schema of that width.
  const captureSchema: DatasetSchema = {
    label: { name: 'Churn', classes: 2 },
    features: Array.from({ length: 69 }, (_, i) => ({ name: `f${i + 1}`, type: 'numerical' as const })),
  };
  const options = labelledDataOptions({ format: 'model-monitor-ground-truth' });
  const asLines = (path: string, uri = `s3://fixtures/${path}`): LabelledLine[] => lines(path).map((line, i) => ({ line, source: { uri, line: i + 1 } }));
  async function collect(captures: LabelledLine[], groundTruth: LabelledLine[]): Promise<RecordVerdict[]> {
    const out: RecordVerdict[] = [];
    for await (const v of joinCapturedWithGroundTruth(captures, groundTruth, { schema: captureSchema, options })) out.push(v);
    return out;
  }
  const captures = asLines('model-monitor/churn-capture/capture.jsonl', 's3://capture/churn.jsonl');
  const groundTruth = asLines('labelled-data/churn-capture-ground-truth.jsonl', 's3://labels/gt.jsonl');

  it('joins each captured request with its label by eventId, and accounts for every other line', async () => {
    const verdicts = await collect(captures, groundTruth);
    assert.deepEqual(codes(verdicts), ['duplicate_label', 'ok', 'ok', 'ok', 'unmatched_label']);
    const [a, b, c] = okRecords(verdicts);
    assert.deepEqual([a!.label, b!.label, c!.label], [0, 1, 0]);
    assert.equal(a!.features.length, 69);
    assert.deepEqual(a!.features.slice(0, 4), [132, 10, 182.9, 54]);
    assert.equal(a!.key, 'f04a8538-696c-4648-8064-8b680b2e3318');
    assert.equal(a!.time, '2022-04-18T00:21:48.000Z');
    assert.deepEqual(a!.source, { uri: 's3://labels/gt.jsonl', line: 1 }, "a joined record's source is its label");
    const unmatched = verdicts[4]!;
    assert.ok(!unmatched.ok);
    assert.deepEqual(unmatched.source, { uri: 's3://labels/gt.jsonl', line: 4 });
    assert.match(unmatched.reason, /no captured request with inferenceId or eventId 5d0e7c1a-0000-4000-8000-000000000001/);
    // Every input line is in exactly one verdict: a joined verdict stands for its capture and its first label.
    const labelLinesSeen = verdicts.filter((v) => !v.ok && v.source.uri === 's3://labels/gt.jsonl').length + okRecords(verdicts).length;
    assert.equal(labelLinesSeen, groundTruth.length);
  });

  it('a capture with no label yet, a second capture for a joined id, and labels that disagree are each reported', async () => {
    const [first] = captures;
    const text = first!.line as string;
    const withInferenceId = text.replace('"eventMetadata":{', '"eventMetadata":{"inferenceId":"order-42",');
    const moreCaptures: LabelledLine[] = [
      ...captures,
      { line: text, source: { uri: 's3://capture/again.jsonl', line: 1 } },
      { line: withInferenceId, source: { uri: 's3://capture/again.jsonl', line: 2 } },
    ];
    const labels: LabelledLine[] = [
      ...groundTruth.slice(0, 3),
      { line: '{"groundTruthData":{"data":"0","encoding":"CSV"},"eventMetadata":{"eventId":"4f301857-49c9-44d1-b275-ba0ab7767033"},"eventVersion":"0"}', source: { uri: 's3://labels/late.jsonl', line: 1 } },
    ];
    const verdicts = await collect(moreCaptures, labels);
    assert.deepEqual(codes(verdicts), ['conflicting_label', 'ok', 'conflicting_label', 'ok', 'duplicate_capture', 'no_label_yet']);
    const conflict = verdicts[2]!;
    assert.ok(!conflict.ok);
    assert.equal(conflict.reason, 'the ground-truth records for eventId 4f301857-49c9-44d1-b275-ba0ab7767033 disagree: 1 at s3://labels/gt.jsonl:2, 0 at s3://labels/late.jsonl:1');
    const again = verdicts[5]!;
    assert.ok(!again.ok);
    assert.equal(again.reason, 'no label for inferenceId order-42 among the ground-truth records read', 'an inferenceId, when captured, is the only id matched');
  });

  it("a capture's bad features are the capture's fault, located; a bad label is the label line's", async () => {
    const short = (captures[0]!.line as string).replace('"data":"132,10,', '"data":"132,');
    const blank = (captures[1]!.line as string).replace('"data":"130,0,', '"data":"130,,');
    const verdicts = await collect(
      [
        { line: short, source: { uri: 'cap', line: 1 } },
        { line: blank, source: { uri: 'cap', line: 2 } },
        { line: '{"captureData":{}}', source: { uri: 'cap', line: 3 } },
      ],
      [
        ...groundTruth.slice(0, 2),
        { line: '{"groundTruthData":{"data":"maybe","encoding":"CSV"},"eventMetadata":{"eventId":"9827355a-ac22-40f4-9748-539e03db6c2a"}}', source: { uri: 'gt', line: 9 } },
      ],
    );
    assert.deepEqual(codes(verdicts), ['bad_label', 'wrong_width', 'missing_value', 'bad_capture']);
    assert.ok(!verdicts[0]!.ok && verdicts[0]!.reason === '"groundTruthData"."data" is "maybe", not a finite number (to give classes by name, list them in dataset.schema.label.classNames)');
    assert.ok(!verdicts[1]!.ok && verdicts[1]!.reason.startsWith('captured input row 1: has 68 values, expected 69 features; its label at s3://labels/gt.jsonl:1 is set aside with it'));
    assert.ok(!verdicts[2]!.ok && verdicts[2]!.reason.startsWith('captured input column 2 (feature "f2") is empty'));
    assert.ok(!verdicts[3]!.ok && verdicts[3]!.reason === 'capture eventMetadata: missing');
  });
});

describe('dataset.input in the pipeline config', () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the tests break the config on purpose
  const withDataset = (change: (dataset: any) => void) => {
    const input = demoConfig() as { dataset: Record<string, unknown> };
    change(input.dataset);
    return input;
  };
  const issues = (input: unknown) => {
    try {
      parsePipelineConfig(input);
    } catch (err) {
      assert.ok(err instanceof InvalidConfigError);
      return err.issues.map((i) => `${i.path}: ${i.message}`);
    }
    return [];
  };

  it('defaults to headerless CSV, a 1 MiB line limit and no filters', () => {
    const config = parsePipelineConfig(demoConfig());
    assert.deepEqual(config.dataset.input, { format: 'csv', maxLineBytes: 1048576, fields: {}, featuresFrom: 'fields', labelQuality: { humanAnnotatedOnly: false } });
  });

  it('takes a manifest with filters and class names, and its options drive the reader as they are', () => {
    const config = parsePipelineConfig(
      withDataset((d) => {
        d.schema.label.classNames = ['stays', 'churns'];
        d.input = { format: 'ground-truth-manifest', fields: { label: 'churn-review' }, featuresFrom: 'source', labelQuality: { minConfidence: 0.7, allowedJobNames: ['churn-review'] } };
      }),
    );
    assert.deepEqual(config.dataset.schema.label.classNames, ['stays', 'churns']);
    assert.equal(config.dataset.input.labelQuality.minConfidence, 0.7);
  });

  it('names every bad field by its path', () => {
    const found = issues(
      withDataset((d) => {
        d.schema.label.classNames = ['stays'];
        d.input = { format: 'csv', maxLineBytes: 10, fields: { key: 'id' }, featuresFrom: 'source', labelQuality: { minConfidence: 1.5 } };
      }),
    );
    assert.ok(found.some((i) => i.startsWith('dataset.input.maxLineBytes:')), found.join('\n'));
    assert.ok(found.some((i) => i.startsWith('dataset.input.labelQuality.minConfidence:')), found.join('\n'));
    assert.ok(found.includes('dataset.schema.label.classNames: lists 1 names; label.classes must be set to the same number'), found.join('\n'));
    const crossField = issues(withDataset((d) => (d.input = { format: 'csv', fields: { key: 'id' }, featuresFrom: 'source', labelQuality: { humanAnnotatedOnly: true } })));
    assert.deepEqual(crossField, [
      "dataset.input.fields.key: fields apply to JSON formats; CSV columns are the label, then the schema's features in order",
      'dataset.input.featuresFrom: "source" applies only to format "ground-truth-manifest"',
      'dataset.input.labelQuality: label-quality filters read Ground Truth label metadata; format "csv" has none',
    ]);
    const unknownFeature = issues(withDataset((d) => (d.input = { format: 'jsonl', fields: { features: { nope: 'x' } } })));
    assert.deepEqual(unknownFeature, ['dataset.input.fields.features.nope: "nope" is not a feature of dataset.schema']);
  });
});

describe('times and bytes', () => {
  it('reads ISO 8601 times to UTC milliseconds; a time without a zone is UTC, never local', () => {
    assert.equal(parseIsoTime('2018-10-18T22:18:13.527256'), '2018-10-18T22:18:13.527Z');
    assert.equal(parseIsoTime('2024-05-02T09:15:00+02:00'), '2024-05-02T07:15:00.000Z');
    assert.equal(parseIsoTime('2024-05-02T09:15:00-0530'), '2024-05-02T14:45:00.000Z');
    assert.equal(parseIsoTime('2024-05-02'), '2024-05-02T00:00:00.000Z');
    assert.equal(parseIsoTime('2024-05-02 09:15'), '2024-05-02T09:15:00.000Z');
    for (const bad of ['2024-02-30', '2024-13-01T00:00:00Z', '2024-05-02T24:00:00Z', '1714641300', 'May 2, 2024', '']) assert.equal(parseIsoTime(bad), null, bad);
  });

  it('locates the first bad byte after multi-byte characters, and a sequence cut off at the end', () => {
    const options = labelledDataOptions({ format: 'jsonl' });
    const read = (bytes: number[]) => readLabelledLine('jsonl', new Uint8Array(bytes), { schema: churn, source: { uri: 'u', line: 1 }, options });
    const text = [...new TextEncoder().encode('{"n":"é€')];
    const cut = read([...text, 0xe2, 0x82]);
    assert.ok(!cut.ok && cut.code === 'not_utf8');
    assert.equal(cut.reason, `byte ${text.length + 1} (0xe2) does not start a valid UTF-8 sequence`);
    const surrogate = read([...text, 0xed, 0xa0, 0x80, 0x22, 0x7d]);
    assert.ok(!surrogate.ok && surrogate.reason.startsWith(`byte ${text.length + 1} (0xed)`));
    const fine = read([...new TextEncoder().encode(JSON.stringify({ churn: 1, account_length: 1, day_mins: 2, eve_mins: 3, cust_serv_calls: 4, note: 'naïve € 😀' }))]);
    assert.ok(fine.ok, 'valid multi-byte text passes');
    const bom = read([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(JSON.stringify({ churn: 0, account_length: 1, day_mins: 2, eve_mins: 3, cust_serv_calls: 4 }))]);
    assert.ok(bom.ok, 'a byte-order mark is dropped');
  });
});
