// drift-report.html (domain/drift/report-html.ts) and the histograms it draws (domain/drift/histogram.ts):
// one well-formed SVG per feature, every piece of data text escaped, nothing external, and bins and shares
// that describe the profiles.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
// s3rver's XML parser (a dependency of the local stack): a real well-formedness check for each SVG.
import { validate as validateXml } from 'fast-xml-parser';
import { DatasetProfile, type CategoricalProfile, type DriftOptions, type NumericalProfile, type ProfiledFeature } from '../domain/drift';
import { featureHistogram, HISTOGRAM_BINS, OTHER_LABEL } from '../domain/drift/histogram';
import { decideDrift } from '../domain/drift/stage';
import { driftReportHtml, escapeHtml, formatNumber, histogramSvg } from '../domain/drift/report-html';
import type { DriftStageReport } from '../domain/drift/stage-report';
import { parseViolations } from '../domain/model-monitor';
import { seededRandom } from '../domain/seeded-random';

const options: DriftOptions = { pValueThreshold: 0.05, psiThreshold: 0.25, driftShare: 0.5, minSamples: 50 };
const HOSTILE = `<script>alert("x")</script> & 'quotes'`;

const features: ProfiledFeature[] = [
  { name: 'spend', type: 'numerical' },
  { name: 'flag', type: 'numerical' },
  { name: HOSTILE, type: 'categorical' },
  { name: 'absent', type: 'numerical' },
];

function profiles(): { reference: DatasetProfile; current: DatasetProfile } {
  const random = seededRandom(12);
  const hostileCategories = ['</svg><script>1</script>', 'a&b', '"quoted"', 'ctrl\u0001char', 'plain'];
  const side = (n: number, shift: number, withAbsent: boolean) =>
    DatasetProfile.ofColumns(features, {
      spend: Array.from({ length: n }, () => 50 + 20 * (random() - 0.5) + shift),
      flag: Array.from({ length: n }, () => (random() < 0.2 + shift / 100 ? 1 : 0)),
      [HOSTILE]: Array.from({ length: n }, () => hostileCategories[Math.floor(random() * hostileCategories.length)]!),
      ...(withAbsent ? { absent: Array.from({ length: n }, () => random()) } : {}),
    });
  return { reference: side(3000, 0, false), current: side(1200, 8, true) };
}

function report(): DriftStageReport {
  const { reference, current } = profiles();
  const decided = decideDrift({
    features,
    mode: 'default',
    reference: { kind: 'dataset', profile: reference },
    current,
    options,
    modelMonitorVerdict: {
      violations: parseViolations({ violations: [{ feature_name: HOSTILE, constraint_check_type: 'baseline_drift_check', description: 'Categorical distance: 0.3 exceeds categorical threshold: 0.1' }] }),
      uri: 's3://bucket/monitoring/<execution>/constraint_violations.json',
      trust: false,
    },
  });
  return {
    model: 'churn<&>',
    endpoint: 'churn-endpoint',
    variant: 'AllTraffic',
    window: { from: '2026-11-24T09:00:00.000Z', to: '2026-11-24T12:00:00.000Z' },
    mode: 'default',
    baseline: { kind: 'dataset', datasetVersion: 'v1"><b>', uri: 's3://bucket/datasets/v1/train/data.csv' },
    capture: {},
    processing: { mode: 'worker' },
    profileLimits: { exactValues: 10_000, distinctValues: 100, categories: 1000 },
    statisticsUri: 's3://bucket/reports/statistics.json',
    violationsUri: 's3://bucket/reports/constraint_violations.json',
    htmlReportUri: 's3://bucket/reports/drift-report.html',
    modelMonitor: decided.evidence!,
    ...decided.report,
  };
}

const svgsOf = (html: string) => html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];

describe('drift-report.html', () => {
  const page = driftReportHtml(report());

  it('one histogram per feature, each a well-formed SVG', () => {
    const svgs = svgsOf(page);
    assert.equal(svgs.length, features.length);
    for (const svg of svgs) {
      assert.equal(validateXml(svg), true, svg.slice(0, 200));
      assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+" height="\d+" viewBox="0 0 \d+ \d+" role="img" aria-label="[^"]*">/);
    }
    // The table's rows each hold their feature's picture.
    const rows = page.match(/<tr class="v-[a-z_]+">[\s\S]*?<\/tr>/g)!;
    assert.equal(rows.length, features.length);
    rows.forEach((row) => assert.equal(svgsOf(row).length, 1));
    assert.match(svgsOf(rows[3]!)[0]!, /<title>reference 0\.0% in /, 'a feature the reference lacks: the current side alone');
  });

  it('escapes every piece of data text: feature and category names, versions, URIs, the model', () => {
    assert.ok(!page.includes('<script'), 'no script element, from any source');
    assert.ok(!page.includes('</svg><script>'));
    assert.ok(page.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;'));
    assert.ok(page.includes('a&amp;b'));
    assert.ok(page.includes('&quot;quoted&quot;'));
    assert.ok(page.includes('v1&quot;&gt;&lt;b&gt;'));
    assert.ok(page.includes('monitoring/&lt;execution&gt;/constraint_violations.json'));
    assert.ok(page.includes('<title>Drift report: churn&lt;&amp;&gt;: no drift</title>') || page.includes('<title>Drift report: churn&lt;&amp;&gt;: drift</title>'));
    // eslint-disable-next-line no-control-regex
    assert.ok(!/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/.test(page), 'no control characters XML forbids');
    assert.ok(page.includes('ctrl\uFFFDchar'));
  });

  it('is self-contained: no scripts, no external resources', () => {
    assert.ok(!/<script|<link|<img|<iframe|\bsrc=|\bhref=|@import|url\(/i.test(page));
    const external = page.match(/https?:\/\/[^\s"'<]+/g) ?? [];
    assert.deepEqual([...new Set(external)], ['http://www.w3.org/2000/svg'], 'only the SVG namespace name');
    assert.match(page, /^<!DOCTYPE html>\n<html lang="en">/);
    assert.match(page, /<meta charset="utf-8">/);
  });

  it("shows the verdict, the per-feature table and Model Monitor's verdict", () => {
    const r = report();
    assert.ok(page.includes(`<p class="verdict v-${r.verdict}">`));
    assert.ok(page.includes(escapeHtml(r.modelMonitor!.summary)));
    assert.ok(page.includes('<th>Method</th><th>Statistic</th><th>p-value</th><th>Threshold</th><th>Verdict</th><th>Reference n</th><th>Current n</th>'));
    const spend = r.features.find((f) => f.name === 'spend')!;
    assert.ok(page.includes(`<td>${formatNumber(spend.statistic)}</td>`) || page.includes(`<td>${formatNumber(spend.statistic)}<div`));
    assert.ok(page.includes(`<td>${spend.referenceCount}</td><td>${spend.currentCount}</td>`));
    for (const uri of [r.statisticsUri, r.violationsUri, r.htmlReportUri]) assert.ok(page.includes(`<code>${escapeHtml(uri)}</code>`), uri);
  });

  it('draws bins, discrete values and categories as bars with their shares in tooltips', () => {
    const r = report();
    const spend = histogramSvg('spend', r.features[0]!.histogram);
    assert.equal((spend.match(/<rect /g) ?? []).length, 2 * HISTOGRAM_BINS);
    const flag = histogramSvg('flag', r.features[1]!.histogram);
    assert.equal((flag.match(/<rect /g) ?? []).length, 4, 'a 0/1 flag: one pair of bars per value');
    assert.match(flag, /<title>reference \d+\.\d%: 1<\/title>/);
    assert.equal(validateXml(histogramSvg('x', null)), true);
  });
});

describe('featureHistogram', () => {
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const close = (a: number, b: number) => Math.abs(a - b) < 1e-9;

  it('numerical: shared bins; each side sums to 1; values beyond the 0.5–99.5% range fall in the end bins', () => {
    const reference = DatasetProfile.ofColumns([{ name: 'x', type: 'numerical' }], { x: [...Array.from({ length: 999 }, (_, i) => i / 10), 10_000] }).feature('x');
    const current = DatasetProfile.ofColumns([{ name: 'x', type: 'numerical' }], { x: Array.from({ length: 500 }, (_, i) => 20 + i / 10) }).feature('x');
    const h = featureHistogram(reference, current)!;
    assert.equal(h.kind, 'bins');
    if (h.kind !== 'bins') return;
    assert.equal(h.edges.length, HISTOGRAM_BINS + 1);
    assert.ok(close(sum(h.reference), 1) && close(sum(h.current), 1));
    assert.deepEqual(h.clipped, { below: true, above: true }, 'the outlier at 10,000 does not stretch the bins');
    assert.ok(h.edges[h.edges.length - 1]! < 200);
    assert.equal(h.basis, 'exact');
  });

  it('numerical past 10,000 values: from the sketches, and says so', () => {
    const random = seededRandom(2);
    const big = (shift: number) => DatasetProfile.ofColumns([{ name: 'x', type: 'numerical' }], { x: Array.from({ length: 30_000 }, () => random() + shift) }).feature('x') as NumericalProfile;
    const h = featureHistogram(big(0), big(0.5))!;
    assert.equal(h.kind === 'bins' && h.basis, 'sketch');
    assert.ok(close(sum(h.reference), 1));
  });

  it('categorical: the 8 largest categories by combined share, the rest as "other", pooled values included', () => {
    const limits = { exactValues: 10_000, distinctValues: 100, categories: 10 };
    const f = [{ name: 'c', type: 'categorical' as const }];
    const reference = DatasetProfile.ofColumns(f, { c: Array.from({ length: 300 }, (_, i) => `k${i % 12}`) }, limits).feature('c') as CategoricalProfile;
    const current = DatasetProfile.ofColumns(f, { c: Array.from({ length: 100 }, (_, i) => `k${i % 3}`) }, limits).feature('c') as CategoricalProfile;
    assert.ok(reference.overflow > 0);
    const h = featureHistogram(reference, current)!;
    assert.equal(h.kind, 'categories');
    if (h.kind !== 'categories') return;
    assert.equal(h.labels.length, 9);
    assert.equal(h.labels[8], OTHER_LABEL);
    assert.deepEqual(h.labels.slice(0, 3), ['k0', 'k1', 'k2']);
    assert.equal(h.pooled, true);
    assert.ok(close(sum(h.reference), 1) && close(sum(h.current), 1));
    assert.ok(h.current.slice(3).every((x) => x === 0));
  });

  it('nothing to draw: null', () => {
    assert.equal(featureHistogram(undefined, undefined), null);
    assert.equal(featureHistogram(new DatasetProfile([{ name: 'x', type: 'numerical' }]).feature('x'), undefined), null);
  });
});

describe('escapeHtml and formatNumber', () => {
  it('escapes markup and replaces what XML forbids, lone surrogates included', () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    assert.equal(escapeHtml('a\u0000b\u001Fc\td\ne'), 'a\uFFFDb\uFFFDc\td\ne');
    assert.equal(escapeHtml('x\uD800y'), 'x\uFFFDy');
    assert.equal(escapeHtml('emoji 😀'), 'emoji 😀');
  });

  it('four significant digits, scientific when tiny or huge, a dash for nothing', () => {
    assert.deepEqual([0.123456, 12345.678, 1e-7, 3, NaN, null, Infinity, 0, 2.5e6].map(formatNumber), ['0.1235', '12350', '1.00e-7', '3', '—', '—', '∞', '0', '2.50e+6']);
  });
});
