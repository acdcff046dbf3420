import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { DatasetSchema } from '../domain/config';
import {
  assignSplit,
  canonicalJson,
  datasetVersionId,
  parseLabelledCsvLine,
  rowKey,
  toCsvLine,
  type LabelledRow,
  type Split,
} from '../domain/dataset-version';

const schema: DatasetSchema = {
  label: { name: 'churned', classes: 2 },
  features: [
    { name: 'x1', type: 'numerical' },
    { name: 'x2', type: 'numerical' },
    { name: 'x3', type: 'numerical' },
  ],
};
const regressionSchema: DatasetSchema = { label: { name: 'price' }, features: schema.features };
const shares = { validationShare: 0.1, holdoutShare: 0.2 };

describe('parseLabelledCsvLine', () => {
  it('reads label first, then features', () => {
    assert.deepEqual(parseLabelledCsvLine('1, 5.1,3.5 ,-1.4e-2\r', schema), { ok: true, row: { label: 1, features: [5.1, 3.5, -0.014] } });
    assert.deepEqual(parseLabelledCsvLine('12.75,0,0,.5', regressionSchema), { ok: true, row: { label: 12.75, features: [0, 0, 0.5] } });
  });

  it('gives stable reason codes with the detail a person needs', () => {
    const reason = (line: string, s = schema) => {
      const parsed = parseLabelledCsvLine(line, s);
      assert.equal(parsed.ok, false);
      return parsed.ok ? '' : parsed.reason;
    };
    assert.equal(reason('1,5.1,3.5'), 'wrong_width: expected 4 values (label + 3 features), got 3');
    assert.equal(reason('1,5.1,3.5,1,9'), 'wrong_width: expected 4 values (label + 3 features), got 5');
    assert.equal(reason('1,5.1,abc,1'), 'not_a_number: feature "x2" is "abc"');
    assert.equal(reason('1,5.1,0x1f,1'), 'not_a_number: feature "x2" is "0x1f"');
    assert.equal(reason('1,5.1,3.5,Infinity'), 'not_a_number: feature "x3" is "Infinity"');
    assert.equal(reason('1,,3.5,1'), 'missing_value: feature "x1" is empty');
    assert.equal(reason('2,5.1,3.5,1'), 'bad_label: label "churned" is 2, not a class in 0..1');
    assert.equal(reason('0.5,5.1,3.5,1'), 'bad_label: label "churned" is 0.5, not a class in 0..1');
    assert.equal(reason('-1,5.1,3.5,1'), 'bad_label: label "churned" is -1, not a class in 0..1');
    assert.equal(reason('yes,5.1,3.5,1'), 'bad_label: label "churned" is "yes", not a finite number');
    assert.equal(reason('NaN,5.1,3.5,1', regressionSchema), 'bad_label: label "price" is "NaN", not a finite number');
  });

  it('round-trips through toCsvLine exactly', () => {
    const row: LabelledRow = { label: 1, features: [0.1 + 0.2, -0, 1e-300, 123456789.123] };
    const wide: DatasetSchema = { ...schema, features: [...schema.features, { name: 'x4', type: 'numerical' }] };
    assert.equal(toCsvLine(row), '1,0.30000000000000004,0,1e-300,123456789.123');
    assert.deepEqual(parseLabelledCsvLine(toCsvLine(row), wide), { ok: true, row: { ...row, features: [0.30000000000000004, 0, 1e-300, 123456789.123] } });
  });
});

describe('rowKey and assignSplit', () => {
  it('hashes the features only, in canonical number form (golden value: changing it reshuffles every dataset)', () => {
    const key = rowKey({ label: 1, features: [5.1, 3.5, 1.4] });
    assert.equal(key, createHash('sha256').update('5.1,3.5,1.4').digest('hex').slice(0, 32));
    assert.equal(key, '6971cf32283104bc25af40d0e3e06125');
    assert.equal(rowKey({ label: 0, features: [5.1, 3.5, 1.4] }), key, 'a different label collides');
    const parsed = parseLabelledCsvLine('1,5.10,3.5e0,1.400', schema);
    assert.ok(parsed.ok && rowKey(parsed.row) === key, '"5.10" and "5.1" are the same value');
    assert.notEqual(rowKey({ label: 1, features: [5.1, 3.5, 1.41] }), key);
  });

  it('is a fixed function of the key (golden values)', () => {
    const splits = Array.from({ length: 24 }, (_, i) => assignSplit(rowKey({ label: 0, features: [i, i * 0.5, -i] }), shares));
    assert.deepEqual(
      splits.map((s) => s[0]).join(''),
      'tttttttttvhthtttthhttvtt',
      't = train, v = validation, h = holdout for rows [i, i/2, -i], i = 0..23',
    );
    assert.equal(assignSplit('6971cf32283104bc25af40d0e3e06125', shares), 'train');
  });

  it('routes close to the configured shares', () => {
    const tally: Record<Split, number> = { train: 0, validation: 0, holdout: 0 };
    const n = 5000;
    for (let i = 0; i < n; i++) tally[assignSplit(rowKey({ label: 0, features: [i, 7] }), shares)]++;
    assert.ok(Math.abs(tally.holdout / n - 0.2) < 0.02, `holdout ${tally.holdout / n}`);
    assert.ok(Math.abs(tally.validation / n - 0.1) < 0.02, `validation ${tally.validation / n}`);
  });

  it('keeps holdout fixed when only the validation share changes', () => {
    for (let i = 0; i < 2000; i++) {
      const key = rowKey({ label: 0, features: [i, 1] });
      const before = assignSplit(key, shares) === 'holdout';
      const after = assignSplit(key, { validationShare: 0.3, holdoutShare: 0.2 }) === 'holdout';
      assert.equal(after, before);
    }
  });

  it('refuses shares that leave nothing for training', () => {
    assert.throws(() => assignSplit('k', { validationShare: 0.5, holdoutShare: 0.5 }), /leave rows for training/);
    assert.throws(() => assignSplit('k', { validationShare: -0.1, holdoutShare: 0.2 }), RangeError);
  });
});

describe('datasetVersionId', () => {
  const base = {
    model: 'churn',
    parent: 'dv-0123456789abcdef',
    sources: [
      { uri: 's3://data/new/a.csv', etag: '"e1"' },
      { uri: 's3://data/new/b.csv', etag: '"e2"' },
      { uri: 's3://data/new/c.csv', etag: '"e3"' },
    ],
    params: { schema, validationShare: 0.1, holdoutShare: 0.2, conflicts: 'quarantine-conflicts' },
  };
  const id = datasetVersionId(base);

  it("is 'dv-' and 16 hex digits, fixed for fixed inputs (golden value)", () => {
    assert.match(id, /^dv-[0-9a-f]{16}$/);
    assert.equal(datasetVersionId({ model: 'churn', parent: null, sources: [{ uri: 's3://b/new/a.csv', etag: '"e1"' }], params: { holdoutShare: 0.2 } }), 'dv-f62a94555aa1dad1');
  });

  it('does not depend on the order of sources or of keys in params', () => {
    assert.equal(datasetVersionId({ ...base, sources: [base.sources[2]!, base.sources[0]!, base.sources[1]!] }), id);
    const reordered = { conflicts: 'quarantine-conflicts', holdoutShare: 0.2, validationShare: 0.1, schema: { features: schema.features, label: { classes: 2, name: 'churned' } } };
    assert.equal(datasetVersionId({ ...base, params: reordered }), id);
  });

  it('changes with any input', () => {
    const variants = [
      { ...base, model: 'churn-eu' },
      { ...base, parent: null },
      { ...base, parent: 'dv-fedcba9876543210' },
      { ...base, sources: base.sources.slice(1) },
      { ...base, sources: [{ ...base.sources[0]!, etag: '"e1-changed"' }, ...base.sources.slice(1)] },
      { ...base, params: { ...base.params, holdoutShare: 0.25 } },
      { ...base, params: { ...base.params, conflicts: 'newest-wins' } },
      { ...base, params: { ...base.params, schema: { ...schema, features: [schema.features[1]!, schema.features[0]!, schema.features[2]!] } } },
      { ...base, params: { ...base.params, schema: { ...schema, label: { name: 'churned', classes: 3 } } } },
      { ...base, params: { ...base.params, extra: false } },
    ];
    const ids = new Set([id, ...variants.map((v) => datasetVersionId(v))]);
    assert.equal(ids.size, variants.length + 1);
  });

  it('canonical JSON sorts keys at every level and keeps array order', () => {
    assert.equal(canonicalJson({ b: [3, { d: 1, c: undefined, a: null }], a: 'x' }), '{"a":"x","b":[3,{"a":null,"d":1}]}');
  });
});
