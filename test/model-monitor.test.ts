// Model Monitor's files: every published example in test/fixtures/model-monitor/ parses (sources in its
// README.md), writes back to the same JSON, becomes reference distributions or counted evidence, and bad
// files fail naming the file and the JSON path.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseCaptureLine, captureFeatureRows } from '../domain/capture';
import { KllSketch } from '../domain/drift/kll';
import {
  ModelMonitorFormatError,
  modelMonitorBuckets,
  parseConstraints,
  parseStatistics,
  parseViolations,
  readModelMonitorBaseline,
  readModelMonitorVerdict,
  resolveMonitoringConfig,
  writeConstraints,
  writeStatistics,
  writeViolations,
} from '../domain/model-monitor';

const FIXTURES = join(__dirname, 'fixtures', 'model-monitor');
const read = (path: string) => readFileSync(join(FIXTURES, path), 'utf8');

function formatError(fn: () => unknown, file: string, path: string, detail: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ModelMonitorFormatError, `expected ModelMonitorFormatError, got ${String(err)}`);
    assert.equal(err.file, file);
    const issue = err.issues.find((i) => i.path === path);
    assert.ok(issue, `no issue at ${path}; issues: ${JSON.stringify(err.issues)}`);
    assert.match(issue.message, detail);
    assert.match(err.message, new RegExp(`^${file.replace(/[.[\]]/g, '\\$&')} `));
    return true;
  });
}

describe('published examples', () => {
  const jsonFixtures = readdirSync(FIXTURES, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json'));

  it('every JSON fixture is one of the three files and is covered here', () => {
    assert.deepEqual(jsonFixtures.sort(), [
      'byoc-nlp/constraints_violations.json',
      'churn-baseline/constraints.json',
      'churn-baseline/statistics.json',
      'sagemaker-python-sdk/constraint_violations.json',
      'sagemaker-python-sdk/constraints.json',
      'sagemaker-python-sdk/statistics.json',
    ]);
  });

  for (const file of jsonFixtures) {
    const kind = file.includes('violations') ? 'violations' : file.endsWith('constraints.json') ? 'constraints' : 'statistics';
    it(`${file} parses and writes back to the same JSON`, () => {
      const text = read(file);
      const [parse, write] =
        kind === 'violations'
          ? [parseViolations, (v: unknown) => writeViolations(v as never)]
          : kind === 'constraints'
            ? [parseConstraints, (v: unknown) => writeConstraints(v as never)]
            : [parseStatistics, (v: unknown) => writeStatistics(v as never)];
      const parsed = parse(text, file);
      const written = write(parsed);
      // Nothing dropped, nothing invented: the written file is the same JSON value as the published one.
      assert.deepEqual(JSON.parse(written), JSON.parse(text));
      assert.deepEqual(parse(written, file), parsed);
    });
  }

  it('the churn baseline as the container logged it: 70 constraints, the first 29 features of statistics', () => {
    const statistics = parseStatistics(read('churn-baseline/statistics.json'));
    const constraints = parseConstraints(read('churn-baseline/constraints.json'));
    assert.equal(statistics.dataset.item_count, 2333);
    assert.equal(statistics.features.length, 29);
    assert.equal(constraints.features.length, 70);
    assert.deepEqual(
      statistics.features.map((f) => f.name),
      constraints.features.slice(0, 29).map((f) => f.name),
    );
    const dayMins = statistics.features.find((f) => f.name === 'Day Mins')!;
    assert.equal(dayMins.inferred_type, 'Fractional');
    assert.equal(dayMins.numerical_statistics!.distribution!.kll!.buckets!.length, 10);
    assert.deepEqual(dayMins.numerical_statistics!.distribution!.kll!.sketch!.parameters, { c: 0.64, k: 2048 });
    assert.deepEqual(resolveMonitoringConfig(constraints), {
      evaluateConstraints: true,
      emitMetrics: true,
      datatypeCheckThreshold: 1,
      domainContentThreshold: 1,
      performComparison: true,
      comparisonThreshold: 0.1,
      robust: true,
      categoricalComparisonThreshold: 0.1,
      categoricalDriftMethod: 'LInfinity',
    });
  });

  it('captured records from the same endpoint (CSV) and from the SDK tests (JSON) parse as data capture', () => {
    const churn = read('churn-capture/capture.jsonl').trim().split('\n').map((line) => parseCaptureLine(line));
    assert.equal(churn.length, 3);
    for (const record of churn) {
      assert.equal(record.input?.encoding, 'CSV');
      assert.equal(captureFeatureRows(record, 69).length, 1);
    }
    assert.deepEqual(captureFeatureRows(churn[0]!, 69)[0]!.slice(0, 4), [132, 10, 182.9, 54]);
    const sdk = read('sagemaker-python-sdk/captured-data.jsonl').trim().split('\n').map((line) => parseCaptureLine(line));
    assert.equal(sdk.length, 2);
    assert.equal(sdk[0]!.input?.encoding, 'JSON');
    assert.equal(sdk[0]!.inferenceTime, '2019-11-24T07:30:50Z');
  });
});

describe('KLL sketches as the container writes them', () => {
  it("the sketch read level by level (an item at level h weighs 2^h) gives back the container's own 10 buckets, exactly", () => {
    const statistics = parseStatistics(read('churn-baseline/statistics.json'));
    for (const feature of statistics.features) {
      const numerical = feature.numerical_statistics!;
      const sketch = KllSketch.fromModelMonitor(numerical.distribution!.kll!.sketch!);
      assert.deepEqual(modelMonitorBuckets(sketch, numerical.min!, numerical.max!), numerical.distribution!.kll!.buckets, feature.name);
    }
  });
});

describe('reading a baseline as reference distributions', () => {
  it('the churn baseline gives a KLL sketch per numerical feature, counts that agree, and the robust method', () => {
    const baseline = readModelMonitorBaseline(
      parseStatistics(read('churn-baseline/statistics.json')),
      parseConstraints(read('churn-baseline/constraints.json')),
    );
    assert.equal(baseline.itemCount, 2333);
    assert.equal(baseline.features.length, 29);
    for (const feature of baseline.features) {
      assert.equal(feature.kind, 'numerical');
      assert.equal(feature.present, 2333);
      assert.equal(feature.missing, 0);
      assert.equal(feature.sketch!.count, 2333, `${feature.name}: sketch weights sum to num_present`);
      assert.equal(feature.completeness, 1);
      assert.deepEqual(feature.drift, { compare: true, method: 'linf_robust', yields: 'distance', threshold: 0.1 });
    }
    const accountLength = baseline.features.find((f) => f.name === 'Account Length')!;
    assert.equal(accountLength.inferredType, 'Integral');
    assert.equal(accountLength.sketch!.quantile(0), 1);
    // Compaction dropped the largest values (max is 243): a sketch, not the sample.
    assert.ok(accountLength.sketch!.quantile(1) <= 243);
    // The 41 features the container's log cut off are named, not silently lost.
    assert.equal(baseline.skipped.length, 41);
    assert.ok(baseline.skipped.every((s) => s.reason === 'in constraints.json but not in the baseline statistics'));
  });

  it('a String feature gives its category counts, domain and the categorical threshold', () => {
    const baseline = readModelMonitorBaseline(
      parseStatistics(read('sagemaker-python-sdk/statistics.json')),
      parseConstraints(read('sagemaker-python-sdk/constraints.json')),
    );
    assert.equal(baseline.features.length, 1);
    const message = baseline.features[0]!;
    assert.equal(message.kind, 'categorical');
    assert.deepEqual(message.categories, [{ value: 'preproc-not-YET-supported-for-csv-json', count: 418 }]);
    assert.deepEqual(message.domain, ['preproc-not-YET-supported-for-csv-json']);
    // That file's distribution_constraints holds comparison_threshold 1.0 (and keys this schema does not know).
    assert.deepEqual(message.drift, { compare: true, method: 'linf_robust', yields: 'distance', threshold: 1 });
    assert.deepEqual(baseline.skipped, [{ name: 'second_message', reason: 'in constraints.json but not in the baseline statistics' }]);
  });

  it('the monitoring config picks the method and threshold per feature, overrides included', () => {
    const constraints = parseConstraints({
      features: [
        { name: 'amount', inferred_type: 'Fractional' },
        { name: 'city', inferred_type: 'String', monitoringConfigOverrides: { distribution_constraints: { categorical_drift_method: 'ChiSquared', categorical_comparison_threshold: 0.01 } } },
        { name: 'channel', inferred_type: 'String' },
      ],
      monitoring_config: { distribution_constraints: { comparison_threshold: 0.2, comparison_method: 'Simple' } },
    });
    const statistics = parseStatistics({
      dataset: { item_count: 2 },
      features: [
        { name: 'amount', inferred_type: 'Fractional', numerical_statistics: { common: { num_present: 2, num_missing: 0 }, distribution: { kll: { sketch: { parameters: { c: 0.64, k: 2048 }, data: [[1.5, 2.5]] } } } } },
        { name: 'city', inferred_type: 'String', string_statistics: { common: { num_present: 2, num_missing: 0 }, distribution: { categorical: { buckets: [{ value: 'Oslo', count: 2 }] } } } },
        { name: 'channel', inferred_type: 'String', string_statistics: { common: { num_present: 2, num_missing: 0 }, distribution: { categorical: { buckets: [{ value: 'web', count: 2 }] } } } },
      ],
    });
    const drift = Object.fromEntries(readModelMonitorBaseline(statistics, constraints).features.map((f) => [f.name, f.drift]));
    assert.deepEqual(drift.amount, { compare: true, method: 'linf', yields: 'distance', threshold: 0.2 });
    assert.deepEqual(drift.city, { compare: true, method: 'chisquare', yields: 'p_value', threshold: 0.01 });
    // categorical_comparison_threshold defaults to comparison_threshold, as documented.
    assert.deepEqual(drift.channel, { compare: true, method: 'linf', yields: 'distance', threshold: 0.2 });
  });

  it('a file without a monitoring config gets the documented defaults', () => {
    const config = resolveMonitoringConfig(parseConstraints({ features: [] }));
    assert.deepEqual(config, {
      evaluateConstraints: true,
      emitMetrics: true,
      datatypeCheckThreshold: 0.1,
      domainContentThreshold: 0.1,
      performComparison: true,
      comparisonThreshold: 0.1,
      robust: true,
      categoricalComparisonThreshold: 0.1,
      categoricalDriftMethod: 'LInfinity',
    });
    // The spelling in the docs' table means the same as the schema's.
    const simple = parseConstraints({ features: [], monitoring_config: { distribution_constraints: { comparison_method: 'linf_simple' } } });
    assert.equal(resolveMonitoringConfig(simple).robust, false);
  });
});

describe("reading Model Monitor's verdict", () => {
  it('the SDK test file: features flagged, by check type', () => {
    const verdict = readModelMonitorVerdict(parseViolations(read('sagemaker-python-sdk/constraint_violations.json')));
    assert.equal(verdict.violationCount, 7);
    assert.deepEqual(verdict.byCheck.data_type_check, ['fare_amount', 'total_amount', 'tolls_amount', 'extra', 'tip_amount']);
    assert.deepEqual(verdict.byCheck.categorical_values_check, ['store_and_fwd_flag']);
    assert.deepEqual(verdict.byCheck.completeness_check, ['congestion_surcharge']);
    assert.deepEqual(verdict.byCheck.baseline_drift_check, []);
    assert.deepEqual(verdict.driftedFeatures, []);
    assert.equal(verdict.flaggedFeatures.length, 7);
    assert.deepEqual(verdict.otherChecks, {});
  });

  it("a bring-your-own container's file (no descriptions, extra keys): eight violations, one drifted feature", () => {
    const violations = parseViolations(read('byoc-nlp/constraints_violations.json'));
    assert.equal(violations.violations[0]!.description, undefined);
    assert.equal(violations.violations[0]!['sentence'], 'Gilgamesh has not read the cuneiform tablets.');
    const verdict = readModelMonitorVerdict(violations);
    assert.equal(verdict.violationCount, 8);
    assert.deepEqual(verdict.driftedFeatures, ['sent_mmd_score']);
    assert.deepEqual(verdict.flaggedFeatures, ['sent_mmd_score']);
    assert.deepEqual(verdict.distances, []);
  });

  it("reads the distance and threshold from the container's drift description", () => {
    // _source: a baseline_drift_check description printed by the prebuilt container, quoted in
    // "Data Science on AWS" (Fregly & Barth, O'Reilly 2021), chapter 9 (feature review_body).
    const verdict = readModelMonitorVerdict({
      violations: [
        { feature_name: 'review_body', constraint_check_type: 'data_type_check', description: 'Value: 1.0 meets the constraint requirement' },
        { feature_name: 'review_body', constraint_check_type: 'baseline_drift_check', description: 'Numerical distance: 0.2711598746081505 exceeds numerical threshold: 0' },
        { feature_name: 'label', constraint_check_type: 'custom_byoc_check' },
      ],
    });
    assert.deepEqual(verdict.distances, [{ feature: 'review_body', kind: 'numerical', distance: 0.2711598746081505, threshold: 0 }]);
    assert.deepEqual(verdict.flaggedFeatures, ['review_body', 'label']);
    assert.deepEqual(verdict.otherChecks, { custom_byoc_check: ['label'] });
  });
});

describe('bad files name the file and the JSON path', () => {
  it('text that is not JSON', () => {
    formatError(() => parseStatistics('{"dataset": ', 's3://bucket/monitoring/statistics.json'), 's3://bucket/monitoring/statistics.json', '', /not JSON/);
  });

  it('a count of the wrong type, deep in a feature', () => {
    const statistics = JSON.parse(read('churn-baseline/statistics.json'));
    statistics.features[3].numerical_statistics.common.num_present = '2333';
    formatError(() => parseStatistics(statistics, 'baseline/statistics.json'), 'baseline/statistics.json', 'features[3].numerical_statistics.common.num_present', /number/);
  });

  it('a sketch item that is not a number', () => {
    const statistics = JSON.parse(read('churn-baseline/statistics.json'));
    statistics.features[1].numerical_statistics.distribution.kll.sketch.data[1][7] = null;
    formatError(() => parseStatistics(statistics), 'statistics.json', 'features[1].numerical_statistics.distribution.kll.sketch.data[1][7]', /number/);
  });

  it('a numerical feature without numerical statistics, and a repeated feature name', () => {
    formatError(
      () => parseStatistics({ dataset: { item_count: 1 }, features: [{ name: 'x', inferred_type: 'Integral' }] }),
      'statistics.json',
      'features[0].numerical_statistics',
      /needs numerical_statistics/,
    );
    formatError(
      () => parseConstraints({ features: [{ name: 'x', inferred_type: 'Integral' }, { name: 'x', inferred_type: 'String' }] }),
      'constraints.json',
      'features[1].name',
      /duplicate feature name "x"/,
    );
  });

  it('an unknown comparison method or drift method lists the valid ones', () => {
    formatError(
      () => parseConstraints({ features: [], monitoring_config: { distribution_constraints: { categorical_drift_method: 'JensenShannon' } } }),
      'constraints.json',
      'monitoring_config.distribution_constraints.categorical_drift_method',
      /LInfinity.*ChiSquared/,
    );
    formatError(
      () => parseConstraints({ features: [{ name: 'x', inferred_type: 'Double' }] }),
      'constraints.json',
      'features[0].inferred_type',
      /Integral.*Fractional.*String.*Unknown/,
    );
  });

  it('a violation without a feature name; a writer refuses what it could not read back', () => {
    formatError(() => parseViolations({ violations: [{ constraint_check_type: 'data_type_check' }] }), 'constraint_violations.json', 'violations[0].feature_name', /string/);
    formatError(
      () => writeStatistics({ dataset: { item_count: NaN }, features: [] }),
      'statistics.json',
      'dataset.item_count',
      /number|NaN/,
    );
  });
});
