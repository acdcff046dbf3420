// The merge's fast path for CSV lines already in canonical form (canonicalCsvRow): whatever it accepts,
// the full readers read to the same label and the same feature text, so the fast path changes no key,
// split or byte of a version; whatever else it is given, it leaves to the full readers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { featuresText } from '../domain/dataset-merge/keys';
import { readLabelledLine, labelledDataOptions } from '../domain/labelled-data';
import { canonicalCsvRow } from '../domain/labelled-data/csv';
import { parseLabelledCsvLine } from '../domain/dataset-version';
import { seededRandom } from '../domain/seeded-random';
import type { DatasetSchema } from '../domain/config';

const schema: DatasetSchema = {
  label: { name: 'y', classes: 2 },
  features: [{ name: 'a', type: 'numerical' }, { name: 'b', type: 'numerical' }, { name: 'c', type: 'categorical' }],
} as DatasetSchema;
const bytes = (text: string) => Buffer.from(text, 'latin1');

describe('canonical CSV lines', () => {
  it('accepts a field only when String(Number(field)) gives it back', () => {
    const random = seededRandom(7);
    const alphabet = '0123456789.-,e+ ';
    let accepted = 0;
    for (let t = 0; t < 200_000; t++) {
      const mode = t % 4;
      let field = '';
      if (mode === 0) for (let i = 0, n = 1 + Math.floor(random() * 8); i < n; i++) field += alphabet[Math.floor(random() * alphabet.length)];
      else if (mode === 1) field = String((random() - 0.5) * 10 ** (Math.floor(random() * 30) - 12));
      else if (mode === 2) field = ((random() - 0.5) * 10 ** (Math.floor(random() * 10) - 3)).toFixed(Math.floor(random() * 8));
      else field = (random() * 100).toPrecision(1 + Math.floor(random() * 17));
      if (canonicalCsvRow(bytes(`1,${field}`), 2) !== 1) continue;
      accepted++;
      assert.match(field, /^-?\d+(\.\d+)?$/);
      assert.equal(String(Number(field)), field);
    }
    assert.ok(accepted > 50_000, `accepted ${accepted}`);
  });

  it('leaves every other form to the full readers', () => {
    for (const field of ['-0', '1.0', '01', '.5', '5.', '+1', '1e5', '0.0000001', '1234567890123456', '0.1234567890123456', ' 1', '1 ', '', '-', 'inf', 'NaN', '1\r', '\uFEFF1']) {
      assert.equal(canonicalCsvRow(Buffer.from(`1,${field}`, 'utf8'), 2), -1, JSON.stringify(field));
    }
    for (const field of ['0', '0.5', '-0.5', '0.000001', '123456789012345', '0.123456789012345', '-12.25', '100']) {
      assert.equal(canonicalCsvRow(bytes(`1,${field}`), 2), 1, JSON.stringify(field));
    }
    assert.equal(canonicalCsvRow(bytes('1,2,3'), 2), -1, 'a field too many');
    assert.equal(canonicalCsvRow(bytes('1'), 2), -1, 'a field too few');
    assert.equal(canonicalCsvRow(bytes('1,,3'), 3), -1, 'an empty field');
  });

  it('reads what both full readers read, to the same label and feature text', () => {
    const options = labelledDataOptions({ format: 'csv' });
    for (const line of ['1,0.5,-3,2', '0,12.125,0,19', '1,0.000001,-0.25,7', '0,123456789012345,1,1']) {
      const comma = canonicalCsvRow(bytes(line), 4);
      assert.ok(comma > 0, line);
      const verdict = readLabelledLine('csv', line, { schema, source: { uri: 's3://b/k', line: 1 }, options });
      assert.ok(verdict.ok);
      assert.equal(featuresText(verdict.record.features), line.slice(comma + 1));
      assert.equal(String(verdict.record.label), line.slice(0, comma));
      const parent = parseLabelledCsvLine(line, schema);
      assert.ok(parent.ok);
      assert.equal(featuresText(parent.row.features), line.slice(comma + 1));
    }
  });
});
