// The model-monitor mode: Model Monitor's six checks on statistics.json/constraints.json, on the published
// churn baseline (test/fixtures/model-monitor/README.md) against real captured rows and against windows
// made from it, and on small hand-made windows whose answers can be worked out by hand.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { captureFeatureRows, parseCaptureLine } from '../domain/capture';
import { KllSketch } from '../domain/drift/kll';
import {
  categoricalChiSquared,
  modelMonitorBuckets,
  parseConstraints,
  parseStatistics,
  parseViolations,
  readModelMonitorVerdict,
  robustDistance,
  runModelMonitorChecks,
  writeViolations,
  type Constraints,
  type FeatureStatistics,
  type MonitoringConfig,
  type Statistics,
} from '../domain/model-monitor';

const FIXTURES = join(__dirname, 'fixtures', 'model-monitor');
const churnStatistics = parseStatistics(readFileSync(join(FIXTURES, 'churn-baseline', 'statistics.json'), 'utf8'));
const churnConstraints = parseConstraints(readFileSync(join(FIXTURES, 'churn-baseline', 'constraints.json'), 'utf8'));

// --- current-window statistics, written the way the container writes them -------------------------------

function numerical(name: string, values: (number | null)[], type?: 'Integral' | 'Fractional'): FeatureStatistics {
  const present = values.filter((v): v is number => v !== null);
  const sketch = new KllSketch();
  for (const v of present) sketch.update(v);
  const sum = present.reduce((a, b) => a + b, 0);
  const mean = sum / present.length;
  const min = Math.min(...present);
  const max = Math.max(...present);
  return {
    name,
    inferred_type: type ?? (present.every(Number.isInteger) ? 'Integral' : 'Fractional'),
    numerical_statistics: {
      common: { num_present: present.length, num_missing: values.length - present.length },
      mean,
      sum,
      std_dev: Math.sqrt(present.reduce((a, v) => a + (v - mean) ** 2, 0) / present.length),
      min,
      max,
      distribution: { kll: { buckets: modelMonitorBuckets(sketch, min, max), sketch: sketch.toModelMonitor() } },
    },
  };
}

function categorical(name: string, values: (string | null)[]): FeatureStatistics {
  const counts = new Map<string, number>();
  for (const v of values) if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1);
  const present = values.filter((v) => v !== null).length;
  return {
    name,
    inferred_type: 'String',
    string_statistics: {
      common: { num_present: present, num_missing: values.length - present },
      distinct_count: counts.size,
      distribution: { categorical: { buckets: [...counts].map(([value, count]) => ({ value, count })) } },
    },
  };
}

const repeat = <T>(value: T, times: number): T[] => Array.from({ length: times }, () => value);

function statistics(features: FeatureStatistics[]): Statistics {
  const rows = Math.max(0, ...features.map((f) => {
    const common = f.numerical_statistics?.common ?? f.string_statistics!.common;
    return common.num_present + common.num_missing;
  }));
  return parseStatistics({ version: 0, dataset: { item_count: rows }, features });
}

function constraints(features: Constraints['features'], monitoring_config: MonitoringConfig = {}): Constraints {
  return parseConstraints({ version: 0, features, monitoring_config });
}

/** The values a sketch stands for, each item repeated by its weight. */
function expand(sketch: KllSketch): number[] {
  return sketch.weightedValues().flatMap(({ value, weight }) => repeat(value, weight));
}

/** sup_x |F(x) − G(x)| by brute force over every value of either sample. */
function exactGap(a: number[], b: number[]): number {
  const cdf = (sample: number[], x: number) => sample.filter((v) => v <= x).length / sample.length;
  let gap = 0;
  for (const x of new Set([...a, ...b])) gap = Math.max(gap, Math.abs(cdf(a, x) - cdf(b, x)));
  return gap;
}

function sketchOf(feature: FeatureStatistics): KllSketch {
  return KllSketch.fromModelMonitor(feature.numerical_statistics!.distribution!.kll!.sketch!);
}

const CAPTURED_COLUMNS = churnConstraints.features.slice(1).map((f) => f.name); // the rows carry no Churn label

function capturedWindow(): Statistics {
  const rows = readFileSync(join(FIXTURES, 'churn-capture', 'capture.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .flatMap((line) => captureFeatureRows(parseCaptureLine(line), CAPTURED_COLUMNS.length));
  return statistics(CAPTURED_COLUMNS.map((name, j) => numerical(name, rows.map((row) => row[j]!))));
}

// --- the published baseline ------------------------------------------------------------------------------

describe('the published churn baseline', () => {
  it('against itself: no drift, no type, completeness or domain findings; the 41 features its log lost are missing columns', () => {
    const result = runModelMonitorChecks({ baselineStatistics: churnStatistics, constraints: churnConstraints, currentStatistics: churnStatistics });
    assert.equal(result.drift.length, 29);
    assert.ok(result.drift.every((d) => d.value === 0 && !d.drifted && d.method === 'linf_robust' && d.threshold === 0.1));
    assert.deepEqual(
      result.violations.violations.map((v) => v.feature_name),
      churnConstraints.features.slice(29).map((f) => f.name),
    );
    assert.ok(result.violations.violations.every((v) => v.constraint_check_type === 'missing_column_check'));
    assert.match(result.violations.violations[0]!.description!, /Number of columns in current dataset: 29, in baseline constraints: 70\./);
  });

  it('against the three rows its endpoint captured: Robust lets three rows through, Simple flags what a 3-row sample cannot match', () => {
    const window = capturedWindow();
    const robust = runModelMonitorChecks({ baselineStatistics: churnStatistics, constraints: churnConstraints, currentStatistics: window });
    // The captured rows carry every feature but the label, with the baseline's types and no gaps.
    assert.deepEqual(robust.violations.violations, [
      {
        feature_name: 'Churn',
        constraint_check_type: 'missing_column_check',
        description: 'Feature is in the baseline constraints but not in the current dataset. Number of columns in current dataset: 69, in baseline constraints: 70.',
      },
    ]);
    assert.equal(robust.drift.length, 28);
    // 1.8·sqrt((2333+3)/(2333·3)) ≈ 1.04: no distance survives the allowance for three rows.
    assert.ok(robust.drift.every((d) => d.value === 0 && !d.drifted));
    assert.equal(robust.notCompared.length, 69 - 28);

    const simpleConstraints = structuredClone(churnConstraints);
    simpleConstraints.monitoring_config!.distribution_constraints!.comparison_method = 'Simple';
    const simple = runModelMonitorChecks({ baselineStatistics: churnStatistics, constraints: simpleConstraints, currentStatistics: window });
    const accountLength = simple.drift.find((d) => d.feature === 'Account Length')!;
    const baselineSketch = sketchOf(churnStatistics.features.find((f) => f.name === 'Account Length')!);
    const captured = expand(sketchOf(window.features.find((f) => f.name === 'Account Length')!));
    assert.deepEqual(captured.sort((a, b) => a - b), [85, 130, 132]);
    assert.ok(Math.abs(accountLength.value - exactGap(expand(baselineSketch), captured)) < 1e-12);
    assert.equal(accountLength.method, 'linf');
    assert.ok(accountLength.drifted);
    const flagged = simple.violations.violations.find((v) => v.feature_name === 'Account Length' && v.constraint_check_type === 'baseline_drift_check')!;
    assert.equal(flagged.description, `Numerical distance: ${accountLength.value} exceeds numerical threshold: 0.1`);
  });

  it('against a window with one feature shifted: only that feature drifts, by the gap the data has, within the sketch error', () => {
    const shifted = 'Day Mins';
    const features = churnStatistics.features.map((feature) => {
      const values = expand(sketchOf(feature));
      return feature.name === shifted ? numerical(feature.name, values.map((v) => v + 30), 'Fractional') : numerical(feature.name, values, feature.inferred_type as 'Integral');
    });
    const window = statistics(features);
    const result = runModelMonitorChecks({ baselineStatistics: churnStatistics, constraints: churnConstraints, currentStatistics: window });
    const drifted = result.drift.filter((d) => d.drifted);
    assert.deepEqual(drifted.map((d) => d.feature), [shifted]);
    const d = drifted[0]!;
    const baselineValues = expand(sketchOf(churnStatistics.features.find((f) => f.name === shifted)!));
    const exact = exactGap(baselineValues, baselineValues.map((v) => v + 30));
    // The window's own sketch compacted (2,333 values > k), so its distance is within the stated error.
    const gap = d.value + 1.8 * Math.sqrt((d.baselineCount + d.currentCount) / (d.baselineCount * d.currentCount));
    assert.ok(d.sketchError! > 0);
    assert.ok(Math.abs(gap - exact) <= d.sketchError!, `gap ${gap}, exact ${exact}, error bound ${d.sketchError}`);
    assert.ok(Math.abs(d.value - robustDistance(exact, 2333, 2333)) <= d.sketchError!);
    assert.deepEqual(
      result.violations.violations.filter((v) => v.constraint_check_type !== 'missing_column_check'),
      [{ feature_name: shifted, constraint_check_type: 'baseline_drift_check', description: `Numerical distance: ${d.value} exceeds numerical threshold: 0.1` }],
    );
  });
});

// --- each check on a window small enough to work out by hand ----------------------------------------------

describe('data_type_check', () => {
  const baseline = statistics([numerical('count', [1, 2, 3, 4, 5, 6, 7, 8])]);
  const expectInteger = constraints([{ name: 'count', inferred_type: 'Integral', completeness: 1 }], { datatype_check_threshold: 1 });

  it('an Integral feature whose window holds fractions: the share of whole numbers against the threshold', () => {
    const window = statistics([numerical('count', [1, 2, 3, 4, 5, 6, 7.5, 8.5])]);
    const result = runModelMonitorChecks({ baselineStatistics: baseline, constraints: expectInteger, currentStatistics: window });
    assert.deepEqual(result.violations.violations.filter((v) => v.constraint_check_type === 'data_type_check'), [
      {
        feature_name: 'count',
        constraint_check_type: 'data_type_check',
        description: 'Data type match requirement is not met. Expected data type: Integral, Expected match: 100.0%. Observed: Only 75.0% of data is Integral.',
      },
    ]);
    // The drift comparison still runs: both sides are numbers.
    assert.equal(result.drift.length, 1);
  });

  it('a window of text: the share that reads as the expected number type; the drift comparison steps aside', () => {
    const window = statistics([categorical('count', ['1', '2', 'two', '4'])]);
    const result = runModelMonitorChecks({ baselineStatistics: baseline, constraints: expectInteger, currentStatistics: window });
    assert.match(result.violations.violations[0]!.description!, /Observed: Only 75\.0% of data is Integral\.$/);
    assert.deepEqual(result.drift, []);
    assert.match(result.notCompared[0]!.reason, /current data is String, the baseline Integral/);
  });

  it('passes at the threshold, and whole numbers satisfy a Fractional constraint', () => {
    const window = statistics([numerical('count', [1, 2, 3, 4, 5, 6, 7.5, 8.5])]);
    const lenient = constraints([{ name: 'count', inferred_type: 'Integral' }], { datatype_check_threshold: 0.75 });
    assert.deepEqual(runModelMonitorChecks({ baselineStatistics: baseline, constraints: lenient, currentStatistics: window }).violations.violations, []);
    const fractional = constraints([{ name: 'count', inferred_type: 'Fractional' }], { datatype_check_threshold: 1 });
    assert.deepEqual(runModelMonitorChecks({ baselineStatistics: baseline, constraints: fractional, currentStatistics: baseline }).violations.violations, []);
  });
});

describe('completeness_check', () => {
  const baseline = statistics([numerical('age', [30, 40, 50, 60, 70, 30, 40, 50, 60, 70])]);
  const window = statistics([numerical('age', [30, 40, 50, 60, 70, 30, 40, 50, 60, null])]);

  it("flags a window less complete than the constraint's completeness", () => {
    const result = runModelMonitorChecks({ baselineStatistics: baseline, constraints: constraints([{ name: 'age', inferred_type: 'Integral', completeness: 1 }]), currentStatistics: window });
    assert.deepEqual(result.violations.violations, [
      {
        feature_name: 'age',
        constraint_check_type: 'completeness_check',
        description: 'Data completeness requirement is not met. Expected completeness: 100.0%. Observed: Only 90.0% of data is complete.',
      },
    ]);
  });

  it('the constraint is the tolerance: a completeness of 0.9 accepts one value in ten missing', () => {
    const result = runModelMonitorChecks({ baselineStatistics: baseline, constraints: constraints([{ name: 'age', inferred_type: 'Integral', completeness: 0.9 }]), currentStatistics: window });
    assert.deepEqual(result.violations.violations, []);
  });
});

describe('categorical_values_check', () => {
  const baseline = statistics([categorical('payment', [...repeat('card', 6), ...repeat('cash', 4)])]);
  const window = statistics([categorical('payment', [...repeat('card', 6), ...repeat('cash', 2), ...repeat('crypto', 2)])]);
  const withDomain = (threshold: number) =>
    constraints([{ name: 'payment', inferred_type: 'String', string_constraints: { domains: ['card', 'cash'] } }], {
      domain_content_threshold: threshold,
      distribution_constraints: { perform_comparison: 'Disabled' },
    });

  it("flags values outside the baseline's domain beyond domain_content_threshold, naming them", () => {
    const result = runModelMonitorChecks({ baselineStatistics: baseline, constraints: withDomain(1), currentStatistics: window });
    assert.deepEqual(result.violations.violations, [
      {
        feature_name: 'payment',
        constraint_check_type: 'categorical_values_check',
        description: 'Data content requirement is not met. Expected: at least 100.0% of values in the baseline domain. Observed: Only 80.0% of values are in the baseline domain (values outside it: "crypto").',
      },
    ]);
    assert.deepEqual(result.drift, []);
  });

  it('passes when the share in the domain reaches the threshold', () => {
    assert.deepEqual(runModelMonitorChecks({ baselineStatistics: baseline, constraints: withDomain(0.8), currentStatistics: window }).violations.violations, []);
  });
});

describe('missing_column_check and extra_column_check', () => {
  const baseline = statistics([numerical('a', [1, 2, 3]), numerical('b', [1, 2, 3])]);
  const expected = [
    { name: 'a', inferred_type: 'Integral' as const },
    { name: 'b', inferred_type: 'Integral' as const },
  ];

  it('one finding per column, in either direction', () => {
    const window = statistics([numerical('a', [1, 2, 3]), numerical('c', [1, 2, 3])]);
    const result = runModelMonitorChecks({ baselineStatistics: baseline, constraints: constraints(expected), currentStatistics: window });
    assert.deepEqual(
      result.violations.violations.map((v) => [v.feature_name, v.constraint_check_type]),
      [
        ['b', 'missing_column_check'],
        ['c', 'extra_column_check'],
      ],
    );
    assert.match(result.violations.violations[1]!.description!, /^Feature is in the current dataset but not in the baseline constraints\. Number of columns in current dataset: 2, in baseline constraints: 2\.$/);
  });

  it('evaluate_constraints Disabled turns the constraint checks off, for the file or for one feature', () => {
    const window = statistics([numerical('a', [1, 2, 3.5]), numerical('c', [1, 2, 3])]);
    const off = constraints(expected, { evaluate_constraints: 'Disabled', datatype_check_threshold: 1 });
    assert.deepEqual(runModelMonitorChecks({ baselineStatistics: baseline, constraints: off, currentStatistics: window }).violations.violations, []);
    const oneOff = constraints(
      [{ ...expected[0]!, monitoringConfigOverrides: { evaluate_constraints: 'Disabled' } }, expected[1]!],
      { datatype_check_threshold: 1, distribution_constraints: { perform_comparison: 'Disabled' } },
    );
    assert.deepEqual(
      runModelMonitorChecks({ baselineStatistics: baseline, constraints: oneOff, currentStatistics: window }).violations.violations.map((v) => [v.feature_name, v.constraint_check_type]),
      [
        ['b', 'missing_column_check'],
        ['c', 'extra_column_check'],
      ],
    );
  });
});

describe('baseline_drift_check on categorical features', () => {
  const baseline = statistics([categorical('plan', [...repeat('basic', 5000), ...repeat('plus', 3000), ...repeat('pro', 2000)])]);
  const window = statistics([categorical('plan', [...repeat('basic', 3000), ...repeat('plus', 3000), ...repeat('pro', 4000)])]);
  const small = (s: Statistics) => statistics([categorical('plan', s.features[0]!.string_statistics!.distribution!.categorical!.buckets.flatMap((b) => repeat(b.value, b.count / 100)))]);
  const plan = (config: MonitoringConfig, override?: MonitoringConfig) =>
    constraints([{ name: 'plan', inferred_type: 'String', ...(override ? { monitoringConfigOverrides: override } : {}) }], config);

  it('LInfinity: the largest gap between category shares; Robust subtracts 1.8·sqrt((n+m)/(n·m))', () => {
    const simple = runModelMonitorChecks({ baselineStatistics: baseline, constraints: plan({ distribution_constraints: { comparison_method: 'Simple' } }), currentStatistics: window });
    assert.deepEqual(simple.drift.map((d) => [d.method, d.value, d.drifted]), [['linf', 0.2, true]]);
    assert.equal(simple.violations.violations[0]!.description, 'Categorical distance: 0.2 exceeds categorical threshold: 0.1');

    const robust = runModelMonitorChecks({ baselineStatistics: baseline, constraints: plan({ distribution_constraints: { comparison_method: 'Robust' } }), currentStatistics: window });
    assert.equal(robust.drift[0]!.method, 'linf_robust');
    assert.ok(Math.abs(robust.drift[0]!.value - (0.2 - 1.8 * Math.sqrt(20_000 / 1e8))) < 1e-15);
    assert.ok(robust.drift[0]!.drifted);

    // A hundred times fewer rows, the same shares: within sampling noise, so no finding.
    const noisy = runModelMonitorChecks({ baselineStatistics: small(baseline), constraints: plan({}), currentStatistics: small(window) });
    assert.deepEqual(noisy.drift.map((d) => [d.value, d.drifted]), [[0, false]]);
  });

  it('categorical_comparison_threshold, and a per-feature override of it', () => {
    const strict = plan({ distribution_constraints: { comparison_method: 'Simple', comparison_threshold: 0.5, categorical_comparison_threshold: 0.19 } });
    assert.equal(runModelMonitorChecks({ baselineStatistics: baseline, constraints: strict, currentStatistics: window }).drift[0]!.drifted, true);
    const relaxed = plan({ distribution_constraints: { comparison_method: 'Simple' } }, { distribution_constraints: { categorical_comparison_threshold: 0.25 } });
    const result = runModelMonitorChecks({ baselineStatistics: baseline, constraints: relaxed, currentStatistics: window });
    assert.deepEqual(result.drift.map((d) => [d.threshold, d.drifted]), [[0.25, false]]);
    assert.deepEqual(result.violations.violations, []);
  });

  it('ChiSquared: a p-value against the threshold, drift below it', () => {
    const result = runModelMonitorChecks({ baselineStatistics: small(baseline), constraints: plan({ distribution_constraints: { categorical_drift_method: 'ChiSquared' } }), currentStatistics: small(window) });
    // f_exp = 50, 30, 20; f_obs = 30, 30, 40: χ² = 400/50 + 0 + 400/20 = 28 on 2 degrees of freedom, p = e^−14.
    const d = result.drift[0]!;
    assert.equal(d.method, 'chisquare');
    assert.ok(Math.abs(d.value - Math.exp(-14)) < 1e-20);
    assert.ok(d.drifted);
    // Printed as Java prints a double, as the container's numbers are.
    assert.equal(result.violations.violations[0]!.description, `Categorical chi-squared p-value: ${d.value.toExponential().replace('e', 'E')} is below categorical threshold: 0.1`);
    assert.match(result.violations.violations[0]!.description!, /p-value: 8\.31528719103\d*E-7 is below/);
  });

  it('perform_comparison Disabled: no comparison at all', () => {
    const result = runModelMonitorChecks({ baselineStatistics: baseline, constraints: plan({ distribution_constraints: { perform_comparison: 'Disabled' } }), currentStatistics: window });
    assert.deepEqual(result.drift, []);
    assert.deepEqual(result.violations.violations, []);
  });
});

describe("chi-squared as Deequ runs it", () => {
  it('merges the smallest expected categories until the table meets Cochran/Yates', () => {
    // Expected 90, 8, 2 (three categories, none allowed below 5 … two are): c merges into b → 90, 10.
    // Two categories need expected ≥ 10: met. χ² = 100/90 + 100/10 on 1 degree of freedom.
    const result = categoricalChiSquared(new Map([['a', 90], ['b', 8], ['c', 2]]), new Map([['a', 80], ['b', 15], ['c', 5]]));
    assert.deepEqual(result.categories, ['a', 'b']);
    assert.equal(result.degreesOfFreedom, 1);
    assert.ok(Math.abs(result.statistic - (100 / 90 + 10)) < 1e-12);
    // erfc(sqrt(χ²/2)), computed with Python's math.erfc: 0.0008581206663936747.
    assert.ok(Math.abs(result.pValue - 0.0008581206663936747) < 1e-15);
  });

  it('leaves out categories the baseline never saw, and cannot run on one category', () => {
    const unseen = categoricalChiSquared(new Map([['a', 50], ['b', 50]]), new Map([['a', 50], ['b', 50], ['z', 1000]]));
    assert.equal(unseen.statistic, 0);
    assert.equal(unseen.pValue, 1);
    assert.ok(Number.isNaN(categoricalChiSquared(new Map([['a', 50]]), new Map([['a', 10]])).pValue));
  });
});

describe('the violations written are what a reader of Model Monitor files expects', () => {
  it('round-trip through constraint_violations.json, and the verdict reads back the drift distances', () => {
    const base = statistics([numerical('x', Array.from({ length: 400 }, (_, i) => i)), categorical('y', [...repeat('a', 300), ...repeat('b', 100)])]);
    const window = statistics([numerical('x', Array.from({ length: 400 }, (_, i) => i + 120)), categorical('y', [...repeat('a', 100), ...repeat('b', 300)])]);
    const result = runModelMonitorChecks({
      baselineStatistics: base,
      constraints: constraints([
        { name: 'x', inferred_type: 'Integral' },
        { name: 'y', inferred_type: 'String' },
      ]),
      currentStatistics: window,
    });
    const verdict = readModelMonitorVerdict(parseViolations(writeViolations(result.violations)));
    assert.deepEqual(verdict.driftedFeatures, ['x', 'y']);
    assert.deepEqual(
      verdict.distances,
      result.drift.map((d) => ({ feature: d.feature, kind: d.kind, distance: d.value, threshold: d.threshold })),
    );
    assert.ok(Math.abs(result.drift[0]!.value - robustDistance(0.3, 400, 400)) < 1e-12);
  });
});
