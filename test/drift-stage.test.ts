// The drift stage's decision (domain/drift/stage.ts), pure: both baseline forms in both modes, Model Monitor's
// verdict as evidence (and trusted), the files it produces, and bad baselines. Model Monitor baselines are the
// published ones in test/fixtures/model-monitor/ (README.md there names each file's source).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareProfiles, DatasetProfile, DEFAULT_PROFILE_LIMITS, type CategoricalProfile, type DriftOptions, type NumericalProfile, type ProfiledFeature } from '../domain/drift';
import { KllSketch } from '../domain/drift/kll';
import { reportViolations } from '../domain/drift/model-monitor';
import { decideDrift, type StageReference } from '../domain/drift/stage';
import {
  ModelMonitorFormatError,
  modelMonitorReferenceProfile,
  parseConstraints,
  parseStatistics,
  parseViolations,
  suggestConstraints,
  writeStatistics,
  writeViolations,
  type Constraints,
  type Statistics,
} from '../domain/model-monitor';
import { seededRandom } from '../domain/seeded-random';

const FIXTURES = join(__dirname, 'fixtures', 'model-monitor');
const read = (...parts: string[]) => readFileSync(join(FIXTURES, ...parts), 'utf8');
const churnStatistics = parseStatistics(read('churn-baseline', 'statistics.json'));
const churnConstraints = parseConstraints(read('churn-baseline', 'constraints.json'));
const FILES = { statistics: 's3://b/baseline/statistics.json', constraints: 's3://b/baseline/constraints.json' };
const options: DriftOptions = { pValueThreshold: 0.05, psiThreshold: 0.25, driftShare: 0.5, minSamples: 50 };

/** The churn example's captured columns: the baseline's without the Churn label, in the CSV's order. */
const CHURN_FEATURES: ProfiledFeature[] = churnConstraints.features.slice(1).map((f) => ({ name: f.name, type: 'numerical' }));

function mmReference(statistics: Statistics, constraints: Constraints): StageReference {
  const { profile, baseline } = modelMonitorReferenceProfile(statistics, constraints, FILES, DEFAULT_PROFILE_LIMITS);
  return { kind: 'model-monitor', profile, statistics, constraints, baseline };
}

/** Draws values as the baseline's sketch distributes them (items by weight). */
function sampler(statistics: Statistics, name: string, random: () => number): () => number {
  const sketch = KllSketch.fromModelMonitor(statistics.features.find((f) => f.name === name)!.numerical_statistics!.distribution!.kll!.sketch!);
  const items = sketch.weightedValues();
  return () => {
    let target = random() * sketch.count;
    for (const item of items) if ((target -= item.weight) < 0) return item.value;
    return items[items.length - 1]!.value;
  };
}

/** A churn window of `rows` rows drawn from the baseline, `Day Mins` moved by `shift`; the columns its statistics lost are 0. */
function churnWindow(rows: number, shift: number, seed = 3): DatasetProfile {
  const random = seededRandom(seed);
  const profile = new DatasetProfile(CHURN_FEATURES);
  const inStatistics = new Set(churnStatistics.features.map((f) => f.name));
  for (const f of CHURN_FEATURES) {
    const draw = inStatistics.has(f.name) ? sampler(churnStatistics, f.name, random) : () => 0;
    const target = profile.feature(f.name) as NumericalProfile;
    for (let i = 0; i < rows; i++) target.add(draw() + (f.name === 'Day Mins' ? shift : 0));
  }
  profile.rows = rows;
  return profile;
}

describe('a Model Monitor baseline as reference profiles', () => {
  it('reads the published churn baseline: sketches as given, moments from the statistics, the lost features listed as skipped', () => {
    const { profile, baseline } = modelMonitorReferenceProfile(churnStatistics, churnConstraints, FILES, DEFAULT_PROFILE_LIMITS);
    assert.equal(profile.rows, 2333);
    const dayMins = profile.feature('Day Mins') as NumericalProfile;
    assert.equal(dayMins.count, 2333);
    assert.equal(dayMins.min, 0);
    assert.equal(dayMins.max, 350.8);
    assert.ok(Math.abs(dayMins.std - 53.987178959901556) < 1e-9);
    assert.equal(dayMins.values(), null, 'a compacted sketch stays a sketch');
    assert.equal(dayMins.sketch().count, 2333);
    assert.equal(dayMins.integral, false);
    assert.equal((profile.feature('Churn') as NumericalProfile).integral, true);
    assert.equal(baseline.skipped.length, 41);
    assert.deepEqual(baseline.skipped[0], { name: 'State_KY', reason: 'in constraints.json but not in the baseline statistics' });
  });

  it('an uncompacted sketch holds every value, so the profile is exact', () => {
    const sketch = new KllSketch();
    [3, 1, 2, 2, 5].forEach((v) => sketch.update(v));
    const statistics = parseStatistics({
      version: 0,
      dataset: { item_count: 6 },
      features: [{ name: 'x', inferred_type: 'Integral', numerical_statistics: { common: { num_present: 5, num_missing: 1 }, distribution: { kll: { sketch: sketch.toModelMonitor() } } } }],
    });
    const { profile } = modelMonitorReferenceProfile(statistics, parseConstraints({ features: [] }), FILES, DEFAULT_PROFILE_LIMITS);
    const x = profile.feature('x') as NumericalProfile;
    assert.deepEqual([...x.values()!].sort(), [1, 2, 2, 3, 5]);
    assert.deepEqual([...x.distinctCounts()!].sort((a, b) => a[0] - b[0]), [[1, 1], [2, 2], [3, 1], [5, 1]]);
    assert.equal(x.mean, 2.6, 'from the values when statistics.json has no mean');
    assert.equal(x.min, 1);
    assert.equal(x.missing, 1);
  });

  it('the SDK test data: a String feature from its categorical buckets; the one the statistics lack is skipped', () => {
    const statistics = parseStatistics(read('sagemaker-python-sdk', 'statistics.json'));
    const constraints = parseConstraints(read('sagemaker-python-sdk', 'constraints.json'));
    const { profile, baseline } = modelMonitorReferenceProfile(statistics, constraints, FILES, DEFAULT_PROFILE_LIMITS);
    const message = profile.feature('message') as CategoricalProfile;
    assert.deepEqual([...message.counts()], [['preproc-not-YET-supported-for-csv-json', 418]]);
    assert.equal(message.overflow, 0);
    assert.deepEqual(baseline.skipped, [{ name: 'second_message', reason: 'in constraints.json but not in the baseline statistics' }]);
  });

  it('numbers that do not add up name the file and the JSON path', () => {
    const broken = structuredClone(churnStatistics);
    broken.features[3]!.numerical_statistics!.common.num_present = 2000;
    broken.features[5]!.numerical_statistics!.common.num_missing = 0.5;
    assert.throws(
      () => modelMonitorReferenceProfile(broken, churnConstraints, FILES, DEFAULT_PROFILE_LIMITS),
      (err: unknown) => {
        assert.ok(err instanceof ModelMonitorFormatError);
        assert.equal(err.file, FILES.statistics);
        assert.deepEqual(
          err.issues.map((i) => i.path),
          ['features[3].numerical_statistics.distribution.kll.sketch', 'features[5].numerical_statistics.common.num_missing'],
        );
        assert.match(err.message, /s3:\/\/b\/baseline\/statistics\.json .*\n.*features\[3\]\.numerical_statistics\.distribution\.kll\.sketch: summarises 2333 values but common\.num_present is 2000/);
        return true;
      },
    );
  });
});

describe('suggested constraints for a dataset baseline', () => {
  it("as a baseline job writes them: types, observed completeness, is_non_negative, a String feature's categories as its domain", () => {
    const profile = new DatasetProfile([
      { name: 'age', type: 'numerical' },
      { name: 'plan', type: 'categorical' },
    ]);
    [30, 41, NaN, 52].forEach((v) => (profile.feature('age') as NumericalProfile).add(v));
    ['gold', 'basic', 'gold', 'basic'].forEach((v) => (profile.feature('plan') as CategoricalProfile).add(v));
    profile.rows = 4;
    const statistics = decideDrift({ features: [], mode: 'default', reference: { kind: 'dataset', profile }, current: profile, options }).currentStatistics;
    const constraints = suggestConstraints(statistics);
    assert.deepEqual(constraints.features, [
      { name: 'age', inferred_type: 'Integral', completeness: 0.75, num_constraints: { is_non_negative: true } },
      { name: 'plan', inferred_type: 'String', completeness: 1, string_constraints: { domains: ['basic', 'gold'] } },
    ]);
    assert.deepEqual(constraints.monitoring_config, churnConstraints.monitoring_config, "the churn baseline job's own monitoring_config");
  });
});

describe('decideDrift: default mode', () => {
  it('with a dataset baseline: compareProfiles, its findings as constraint_violations.json, and a histogram per feature', () => {
    const features: ProfiledFeature[] = [
      { name: 'spend', type: 'numerical' },
      { name: 'plan', type: 'categorical' },
      { name: 'tenure', type: 'numerical' },
    ];
    const random = seededRandom(9);
    const columns = (shift: number, withTenure: boolean) => ({
      spend: Array.from({ length: 2000 }, () => random() * 10 + shift),
      plan: Array.from({ length: 2000 }, () => ['a', 'b', 'c'][Math.floor(random() * 3)]!),
      ...(withTenure ? { tenure: Array.from({ length: 2000 }, () => Math.floor(random() * 30)) } : {}),
    });
    const reference = DatasetProfile.ofColumns(features, columns(0, false));
    const current = DatasetProfile.ofColumns(features, columns(4, true));
    const result = decideDrift({ features, mode: 'default', reference: { kind: 'dataset', profile: reference }, current, options });
    const plain = compareProfiles({ features, reference, current, options });
    assert.deepEqual(
      result.report.features.map(({ histogram: _, ...f }) => f),
      plain.features,
    );
    assert.equal(result.report.verdict, plain.verdict);
    assert.deepEqual(
      result.violations.violations.map((v) => [v.feature_name, v.constraint_check_type]),
      [
        ['spend', 'baseline_drift_check'],
        ['tenure', 'extra_column_check'],
      ],
    );
    assert.match(result.violations.violations[0]!.description!, /^Wasserstein distance \(normalised\): \d+\.\d+ exceeds numerical threshold: 0\.1$/);
    assert.equal(result.report.features.find((f) => f.name === 'tenure')!.verdict, 'missing_column');
    assert.equal(result.report.features.find((f) => f.name === 'spend')!.histogram!.kind, 'bins');
    assert.equal(result.report.features.find((f) => f.name === 'plan')!.histogram!.kind, 'categories');
    assert.equal(result.checks, undefined);
    // Every file is one Model Monitor reads back.
    assert.deepEqual(parseViolations(writeViolations(result.violations)), result.violations);
    assert.deepEqual(parseStatistics(writeStatistics(result.currentStatistics)).dataset, { item_count: 2000 });
  });

  it('nothing found: an empty violations list, still written', () => {
    const features: ProfiledFeature[] = [{ name: 'x', type: 'numerical' }];
    const same = DatasetProfile.ofColumns(features, { x: Array.from({ length: 500 }, (_, i) => i % 50) });
    const result = decideDrift({ features, mode: 'default', reference: { kind: 'dataset', profile: same }, current: same, options });
    assert.equal(result.report.verdict, 'no_drift');
    assert.equal(writeViolations(result.violations), '{\n  "violations": []\n}\n');
  });

  it("with the churn Model Monitor baseline: its monitoring_config's method and threshold per feature, lost features missing with the reason", () => {
    const result = decideDrift({ features: CHURN_FEATURES, mode: 'default', reference: mmReference(churnStatistics, churnConstraints), current: churnWindow(1000, 60), options: { ...options, driftShare: 0.02 } });
    const byName = new Map(result.report.features.map((f) => [f.name, f]));
    const dayMins = byName.get('Day Mins')!;
    assert.deepEqual([dayMins.method, dayMins.threshold, dayMins.verdict, dayMins.basis], ['linf_robust', 0.1, 'drift', 'sketch'], 'Robust, comparison_threshold 0.1');
    assert.ok(dayMins.errorBound!.decisive);
    assert.ok(dayMins.statistic > 0.2, `Day Mins moved 60 minutes: ${dayMins.statistic}`);
    const tested = result.report.features.filter((f) => f.verdict === 'drift' || f.verdict === 'no_drift');
    assert.equal(tested.length, 28);
    assert.deepEqual(result.report.driftedFeatures, ['Day Mins'], 'the rest are drawn from the baseline itself');
    const lost = result.report.features.filter((f) => f.verdict === 'missing_column');
    assert.equal(lost.length, 41);
    assert.equal(lost[0]!.name, 'State_KY');
    assert.equal(lost[0]!.missingFrom, 'reference');
    assert.equal(lost[0]!.note, 'feature "State_KY" is missing from the Model Monitor baseline: in constraints.json but not in the baseline statistics');
    assert.equal(result.report.verdict, 'drift');
    assert.equal(result.report.referenceCount, 2333);
  });

  it('a per-feature override: ChiSquared for a String feature, perform_comparison Disabled for another', () => {
    const statistics = parseStatistics(read('sagemaker-python-sdk', 'statistics.json'));
    const constraints = parseConstraints({
      features: [
        { name: 'message', inferred_type: 'String', monitoringConfigOverrides: { distribution_constraints: { categorical_drift_method: 'ChiSquared', categorical_comparison_threshold: 0.01 } } },
        { name: 'second_message', inferred_type: 'String', monitoringConfigOverrides: { distribution_constraints: { perform_comparison: 'Disabled' } } },
      ],
    });
    const features: ProfiledFeature[] = [
      { name: 'message', type: 'categorical' },
      { name: 'second_message', type: 'categorical' },
    ];
    const current = DatasetProfile.ofColumns(features, { message: Array<string>(300).fill('preproc-not-YET-supported-for-csv-json'), second_message: Array<string>(300).fill('x') });
    const result = decideDrift({ features, mode: 'default', reference: mmReference(statistics, constraints), current, options });
    const [message, second] = result.report.features;
    assert.deepEqual([message!.method, message!.yields, message!.threshold, message!.verdict], ['chisquare', 'p_value', 0.01, 'no_drift']);
    assert.equal(second!.verdict, 'missing_column', 'second_message has no statistics');
  });
});

describe('decideDrift: model-monitor mode', () => {
  it("with the churn baseline: the six checks on the window's statistics; baseline_drift_check decides, the rest are listed", () => {
    const result = decideDrift({ features: CHURN_FEATURES, mode: 'model-monitor', reference: mmReference(churnStatistics, churnConstraints), current: churnWindow(1000, 60), options: { ...options, driftShare: 0.02 } });
    assert.ok(result.checks);
    const types = result.violations.violations.map((v) => `${v.feature_name}:${v.constraint_check_type}`);
    assert.ok(types.includes('Day Mins:baseline_drift_check'), types.join(', '));
    assert.ok(types.includes('Churn:missing_column_check'), 'the label is in the constraints, not in the window');
    assert.equal(types.filter((t) => t.endsWith('baseline_drift_check')).length, 1);
    const dayMins = result.report.features.find((f) => f.name === 'Day Mins')!;
    assert.deepEqual([dayMins.method, dayMins.verdict, dayMins.threshold, dayMins.referenceCount, dayMins.currentCount], ['linf_robust', 'drift', 0.1, 2333, 1000]);
    assert.deepEqual(dayMins.violations, ['baseline_drift_check']);
    assert.ok(dayMins.errorBound, 'the baseline sketch is compacted: a range');
    const lost = result.report.features.find((f) => f.name === 'State_KY')!;
    assert.deepEqual([lost.verdict, lost.missingFrom, lost.note], ['missing_column', 'reference', `feature "State_KY" is not in the baseline's statistics`]);
    assert.equal(result.report.features.filter((f) => f.verdict === 'no_drift').length, 27);
    assert.equal(result.report.score, 1 / 28);
    assert.equal(result.report.verdict, 'drift');
    assert.equal(result.suggestedBaseline, undefined);
  });

  it('with a dataset baseline: checks against the statistics and the constraints a baseline job would suggest', () => {
    const features: ProfiledFeature[] = [
      { name: 'spend', type: 'numerical' },
      { name: 'plan', type: 'categorical' },
    ];
    const random = seededRandom(4);
    const reference = DatasetProfile.ofColumns(features, { spend: Array.from({ length: 3000 }, () => random() * 10), plan: Array.from({ length: 3000 }, () => (random() < 0.5 ? 'a' : 'b')) });
    const current = DatasetProfile.ofColumns(features, { spend: Array.from({ length: 800 }, () => random() * 10 + 3), plan: Array.from({ length: 800 }, () => (random() < 0.5 ? 'a' : 'crypto')) });
    const result = decideDrift({ features, mode: 'model-monitor', reference: { kind: 'dataset', profile: reference }, current, options });
    assert.ok(result.suggestedBaseline);
    assert.deepEqual(result.suggestedBaseline.constraints.features[1]!.string_constraints, { domains: ['a', 'b'] });
    assert.deepEqual(
      result.violations.violations.map((v) => `${v.feature_name}:${v.constraint_check_type}`),
      ['spend:baseline_drift_check', 'plan:categorical_values_check', 'plan:baseline_drift_check'],
    );
    assert.deepEqual(result.report.driftedFeatures, ['spend', 'plan']);
    assert.deepEqual(result.report.features[1]!.violations, ['categorical_values_check', 'baseline_drift_check']);
  });

  it('an empty window is insufficient data, in either mode and either baseline form', () => {
    const empty = new DatasetProfile(CHURN_FEATURES);
    for (const mode of ['default', 'model-monitor'] as const) {
      for (const reference of [mmReference(churnStatistics, churnConstraints), { kind: 'dataset' as const, profile: churnWindow(200, 0) }]) {
        const result = decideDrift({ features: CHURN_FEATURES, mode, reference, current: empty, options });
        assert.equal(result.report.verdict, 'insufficient_data', `${mode}, ${reference.kind}`);
        assert.equal(result.report.currentCount, 0);
        assert.ok(result.report.features.every((f) => !f.drifted));
      }
    }
  });
});

describe("Model Monitor's verdict as evidence", () => {
  const features: ProfiledFeature[] = [
    { name: 'spend', type: 'numerical' },
    { name: 'tenure', type: 'numerical' },
    { name: 'plan', type: 'categorical' },
  ];
  const random = seededRandom(21);
  const reference = DatasetProfile.ofColumns(features, {
    spend: Array.from({ length: 3000 }, () => random() * 10),
    tenure: Array.from({ length: 3000 }, () => random() * 40),
    plan: Array.from({ length: 3000 }, () => (random() < 0.5 ? 'a' : 'b')),
  });
  const current = DatasetProfile.ofColumns(features, {
    spend: Array.from({ length: 900 }, () => random() * 10 + 5),
    tenure: Array.from({ length: 900 }, () => random() * 40),
    plan: Array.from({ length: 900 }, () => (random() < 0.5 ? 'a' : 'b')),
  });
  const violations = parseViolations({
    violations: [
      { feature_name: 'spend', constraint_check_type: 'baseline_drift_check', description: 'Numerical distance: 0.4 exceeds numerical threshold: 0.1' },
      { feature_name: 'tenure', constraint_check_type: 'baseline_drift_check', description: 'Numerical distance: 0.12 exceeds numerical threshold: 0.1' },
      { feature_name: 'plan', constraint_check_type: 'data_type_check', description: 'Data type match requirement is not met.' },
      { feature_name: 'region', constraint_check_type: 'missing_column_check' },
    ],
  });
  const run = (trust: boolean) =>
    decideDrift({ features, mode: 'default', reference: { kind: 'dataset', profile: reference }, current, options, modelMonitorVerdict: { violations, uri: 's3://b/monitoring/constraint_violations.json', trust } });

  it('counted beside the stage’s own statistics, changing nothing by default', () => {
    const result = run(false);
    assert.deepEqual(result.report.driftedFeatures, ['spend']);
    assert.equal(result.report.verdict, 'no_drift', '1 of 3 is below the 0.5 share');
    const evidence = result.evidence!;
    assert.deepEqual(evidence.flaggedFeatures, ['spend', 'tenure', 'plan', 'region']);
    assert.deepEqual(evidence.driftFlagged, ['spend', 'tenure']);
    assert.deepEqual(evidence.alsoDriftedHere, ['spend']);
    assert.deepEqual(evidence.notInSchema, ['region']);
    assert.deepEqual(evidence.byCheck, { data_type_check: ['plan'], baseline_drift_check: ['spend', 'tenure'], missing_column_check: ['region'] });
    assert.equal(evidence.summary, 'Model Monitor flagged 4 features (2 for drift), 1 of which we also find drifted');
    assert.deepEqual(result.report.features.map((f) => f.modelMonitorFlagged), [['baseline_drift_check'], ['baseline_drift_check'], ['data_type_check']]);
    assert.equal(result.report.features[1]!.verdict, 'no_drift');
  });

  it('trusted: its drift-flagged features count as drifted, and the verdict follows', () => {
    const result = run(true);
    assert.deepEqual(result.report.driftedFeatures, ['spend', 'tenure']);
    assert.equal(result.report.verdict, 'drift');
    assert.equal(result.report.score, 2 / 3);
    const tenure = result.report.features[1]!;
    assert.equal(tenure.verdict, 'drift');
    assert.match(tenure.note!, /drift\.trustModelMonitor/);
    assert.deepEqual(result.evidence!.countedAsDrifted, ['tenure']);
    assert.equal(result.evidence!.summary, 'Model Monitor flagged 4 features (2 for drift), 1 of which we also find drifted; trusted, so 1 more feature counts as drifted');
    assert.deepEqual(
      reportViolations(result.report).violations.map((v) => v.feature_name),
      ['spend', 'tenure'],
    );
  });

  it('trusted or not, a window below minSamples stays insufficient data', () => {
    const small = DatasetProfile.ofColumns(features, { spend: [1, 2, 3], tenure: [4, 5, 6], plan: ['a', 'b', 'a'] });
    const result = decideDrift({ features, mode: 'default', reference: { kind: 'dataset', profile: reference }, current: small, options, modelMonitorVerdict: { violations, uri: 's3://b/v.json', trust: true } });
    assert.equal(result.report.verdict, 'insufficient_data');
  });

  it('a bring-your-own container’s violations (no descriptions, its own keys) count the same way', () => {
    const byoc = parseViolations(read('byoc-nlp', 'constraints_violations.json'));
    const result = decideDrift({ features, mode: 'default', reference: { kind: 'dataset', profile: reference }, current, options, modelMonitorVerdict: { violations: byoc, uri: 's3://b/byoc.json', trust: false } });
    assert.equal(result.evidence!.violationCount, byoc.violations.length);
    assert.equal(result.evidence!.alsoDriftedHere.length, 0);
    assert.match(result.evidence!.summary, /^Model Monitor flagged \d+ features? \(\d+ for drift\), 0 of which we also find drifted$/);
  });
});
