// Paired significance tests. Reference values: test/fixtures/gate-reference/reference.json, written by
// reference.py beside it with statsmodels 0.15.0 (mcnemar, exact and chi-square with continuity
// correction), numpy 2.4.6 (percentile) and scipy 1.17.1 (stats.bootstrap, paired, percentile method).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { binomialHalfCdf, mcnemar, pairedBootstrap, quantileOfSorted } from '../domain/significance';

interface Reference {
  packages: Record<string, string>;
  mcnemar: { b: number; c: number; exact: { statistic: number; pValue: number }; chiSquare: { statistic: number; pValue: number } }[];
  percentile: { values: number[]; q: number[]; expected: number[] };
  bootstrap: { observed: number; low: number; high: number; confidence: number };
}
const reference = JSON.parse(readFileSync(path.join(__dirname, 'fixtures', 'gate-reference', 'reference.json'), 'utf8')) as Reference;

const relativelyClose = (actual: number, expected: number, what: string, tolerance = 1e-10) =>
  assert.ok(Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected)), `${what}: ${actual} != reference ${expected}`);

describe("McNemar's test matches statsmodels", () => {
  assert.equal(reference.packages.statsmodels, '0.15.0');
  for (const { b, c, exact, chiSquare } of reference.mcnemar) {
    it(`b=${b}, c=${c}`, () => {
      const pairs = { candidateOnlyCorrect: b, championOnlyCorrect: c };
      const e = mcnemar(pairs, { exact: true });
      relativelyClose(e.statistic, exact.statistic, 'exact statistic');
      relativelyClose(e.pValue, exact.pValue, 'exact p-value');
      const x = mcnemar(pairs, { exact: false });
      relativelyClose(x.statistic, chiSquare.statistic, 'chi-square statistic');
      relativelyClose(x.pValue, chiSquare.pValue, 'chi-square p-value');
      // The test is symmetric in which model is which.
      assert.equal(mcnemar({ candidateOnlyCorrect: c, championOnlyCorrect: b }, { exact: true }).pValue, e.pValue);
    });
  }

  it('no discordant pair is no evidence: p = 1 for both variants', () => {
    assert.deepEqual(mcnemar({ candidateOnlyCorrect: 0, championOnlyCorrect: 0 }, { exact: true }), { exact: true, statistic: 0, pValue: 1 });
    assert.deepEqual(mcnemar({ candidateOnlyCorrect: 0, championOnlyCorrect: 0 }, { exact: false }), { exact: false, statistic: 0, pValue: 1 });
  });

  it('refuses counts that are not counts', () => {
    assert.throws(() => mcnemar({ candidateOnlyCorrect: -1, championOnlyCorrect: 2 }, { exact: true }), /candidateOnlyCorrect \(b\) is -1, not a count/);
    assert.throws(() => mcnemar({ candidateOnlyCorrect: 1, championOnlyCorrect: 2.5 }, { exact: false }), /championOnlyCorrect \(c\) is 2.5, not a count/);
  });

  it('binomial CDF at one half: small cases by hand, and the two tails add up', () => {
    relativelyClose(binomialHalfCdf(0, 3), 1 / 8, 'P(X <= 0 | n = 3)', 1e-14);
    relativelyClose(binomialHalfCdf(1, 3), 4 / 8, 'P(X <= 1 | n = 3)', 1e-14);
    assert.equal(binomialHalfCdf(3, 3), 1);
    assert.equal(binomialHalfCdf(-1, 3), 0);
    relativelyClose(binomialHalfCdf(5, 10), 638 / 1024, 'P(X <= 5 | n = 10)');
    relativelyClose(binomialHalfCdf(60, 100) + (1 - binomialHalfCdf(60, 100)), 1, 'complement');
  });
});

describe('percentile interval', () => {
  it("quantiles interpolate as numpy's default percentile", () => {
    const sorted = [...reference.percentile.values].sort((a, b) => a - b);
    reference.percentile.q.forEach((q, i) => relativelyClose(quantileOfSorted(sorted, q), reference.percentile.expected[i], `q=${q}`, 1e-14));
    assert.throws(() => quantileOfSorted([], 0.5), /no values/);
    assert.throws(() => quantileOfSorted([1], 1.5), /outside \[0, 1\]/);
  });

  // The same paired rows scipy resampled: an accuracy difference of 0.1 on 300 rows.
  const rows = 300;
  const candidateRight = Array.from({ length: rows }, (_, i) => ((i * 7) % 10 < 8 ? 1 : 0));
  const championRight = Array.from({ length: rows }, (_, i) => ((i * 3) % 10 < 7 ? 1 : 0));
  const accuracyDifference = (timesDrawn: Uint32Array) => {
    let drawn = 0;
    let difference = 0;
    for (let i = 0; i < rows; i++) {
      drawn += timesDrawn[i];
      difference += timesDrawn[i] * (candidateRight[i] - championRight[i]);
    }
    return difference / drawn;
  };

  it("a paired bootstrap interval agrees with scipy's to within resampling noise", () => {
    const interval = pairedBootstrap({ rows, resamples: 20_000, seed: 0, confidence: reference.bootstrap.confidence, statistic: accuracyDifference })!;
    relativelyClose(interval.observed, reference.bootstrap.observed, 'observed difference', 1e-12);
    // Different generators draw different resamples; at 20,000 resamples the bounds agree to about 0.005.
    assert.ok(Math.abs(interval.lower - reference.bootstrap.low) <= 0.007, `lower ${interval.lower} vs scipy ${reference.bootstrap.low}`);
    assert.ok(Math.abs(interval.upper - reference.bootstrap.high) <= 0.007, `upper ${interval.upper} vs scipy ${reference.bootstrap.high}`);
    assert.equal(interval.usableResamples, 20_000);
  });

  it('is reproducible by seed and changes with it', () => {
    const options = { rows, resamples: 500, confidence: 0.9, statistic: accuracyDifference };
    const first = pairedBootstrap({ ...options, seed: 7 });
    assert.deepEqual(pairedBootstrap({ ...options, seed: 7 }), first);
    assert.notDeepEqual(pairedBootstrap({ ...options, seed: 8 }), first);
    assert.ok(first!.lower <= first!.observed && first!.observed <= first!.upper);
  });

  it('skips resamples where the statistic is undefined, and gives null when it is undefined on the holdout', () => {
    let calls = 0;
    const sometimes = () => (calls++ % 2 === 0 ? 1 : null);
    const interval = pairedBootstrap({ rows: 5, resamples: 10, seed: 1, confidence: 0.95, statistic: sometimes })!;
    assert.equal(interval.usableResamples, 5);
    assert.equal(pairedBootstrap({ rows: 5, resamples: 10, seed: 1, confidence: 0.95, statistic: () => null }), null);
    assert.throws(() => pairedBootstrap({ rows: 5, resamples: 0, seed: 1, confidence: 0.95, statistic: () => 1 }), /resamples is 0/);
    assert.throws(() => pairedBootstrap({ rows: 5, resamples: 10, seed: 1, confidence: 1, statistic: () => 1 }), /confidence is 1/);
  });
});
