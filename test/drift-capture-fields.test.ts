// The scanner reads a Model Monitor line's CSV fields as numericalValue and categoricalValue read them,
// on the paths its number reading takes: up to 9 digits either side of the point as two int32 parts, and
// everything else (longer digit runs, exponents, a second point, spaces, quotes, text) as before.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CaptureLineScanner, categoricalValue, numericalValue } from '../domain/capture';
import { seededRandom } from '../domain/seeded-random';

function line(data: string): string {
  return (
    `{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT","data":"${data}","encoding":"CSV"},` +
    `"endpointOutput":{"observedContentType":"text/csv; charset=utf-8","mode":"OUTPUT","data":"0.5","encoding":"CSV"}},` +
    `"eventMetadata":{"eventId":"e-1","inferenceTime":"2026-11-24T10:00:00Z"},"eventVersion":"0"}`
  );
}

const FIELDS = [
  '0', '-0', '7', '007', '5.', '.5', '-.5', '.', '-', '', '12.3456', '-3.1234', '123456789', '1234567890', '-1234567890.5',
  '0.123456789', '0.1234567890', '123456789.123456789', '999999999.999999999', '9007199254740991', '9007199254740993',
  '1.2.3', '1e2', '-1E-3', ' 7', '7 ', 'n/a', 'NaN', 'Infinity', '0x10', '1_000', '00000000000000000000001', '0.0000000000000000000001',
  '4503599627370496.5', '1.7976931348623157', '2.2250738585072014',
];

function check(fields: string[]): void {
  const scanner = new CaptureLineScanner();
  const text = `  ${line(fields.join(','))}  `;
  assert.ok(scanner.scan(text, 2, text.length - 2), fields.join(','));
  assert.ok(scanner.csvRow(fields.length));
  fields.forEach((field, i) => {
    assert.ok(Object.is(scanner.numberAt(i), numericalValue(field)), `numberAt(${JSON.stringify(field)}): ${scanner.numberAt(i)} vs ${numericalValue(field)}`);
    assert.equal(scanner.categoryAt(i), categoricalValue(field), `categoryAt(${JSON.stringify(field)})`);
    const small = scanner.smallIntegerAt(i, 1024);
    if (small >= 0) assert.equal(String(small), categoricalValue(field));
  });
}

describe('CaptureLineScanner fields', () => {
  it('each field alone, first, last and among others', () => {
    for (const field of FIELDS) {
      // A request of one empty field is no row at all (captureFieldRows), which csvRow leaves to it.
      if (field !== '') check([field]);
      check([field, '1.5']);
      check(['1.5', field]);
      check(['-2', field, '3.25']);
    }
  });

  it('random decimals of every length either side of the point', () => {
    const random = seededRandom(5);
    const digits = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 10)).join('');
    for (let round = 0; round < 2_000; round++) {
      const fields = Array.from({ length: 12 }, () => {
        const whole = digits(Math.floor(random() * 12));
        const point = random() < 0.8;
        const fraction = point ? digits(Math.floor(random() * 12)) : '';
        return `${random() < 0.4 ? '-' : ''}${whole}${point ? '.' : ''}${fraction}`;
      });
      check(fields);
    }
  });
});
