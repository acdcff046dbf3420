// The drift stage on the real local stack (S3 and the local SageMaker), end to end through detectDrift:
// both baseline forms (a dataset version's training split; the published churn Model Monitor baseline from
// test/fixtures/model-monitor/), both modes, a monitoring execution's verdict as evidence, the four files
// beside the run, and bad input (a baseline missing a feature, an empty window, missing and malformed
// Model Monitor files).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { validate as validateXml } from 'fast-xml-parser';
import { detectDrift } from '../activities/drift';
import type { Champion, DriftSummary } from '../activities/types';
import { parsePipelineConfig, type PipelineConfigInput } from '../domain/config';
import { KllSketch } from '../domain/drift/kll';
import type { DriftStageReport } from '../domain/drift/stage-report';
import { parseConstraints, parseStatistics, parseViolations } from '../domain/model-monitor';
import { seededRandom } from '../domain/seeded-random';
import { NON_RETRYABLE } from '../workflows/retraining';
import { startLocalStack, type LocalStack } from '../local/stack';

const BUCKET = 'drift-baselines-test';
const DRIFT_IMAGE = '000000000000.dkr.ecr.us-east-1.amazonaws.com/sagemaker-retraining-drift:latest';
const FIXTURES = path.join(__dirname, 'fixtures', 'model-monitor');
const fixture = (...parts: string[]) => readFileSync(path.join(FIXTURES, ...parts), 'utf8');
let dataDir: string;
let stack: LocalStack;
let s3: S3Client;
let sagemaker: SageMakerClient;

// --- Two pipelines: "plans" (small, made-up data, dataset baselines) and "churn" (the published example) ----

const PLAN_FEATURES = [
  { name: 'spend', type: 'numerical' as const },
  { name: 'tenure', type: 'numerical' as const },
  { name: 'plan', type: 'categorical' as const },
];
const PLANS_END = '2026-11-24T12:00:00.000Z';

const churnStatisticsText = fixture('churn-baseline', 'statistics.json');
const churnStatistics = parseStatistics(churnStatisticsText);
const churnConstraints = parseConstraints(fixture('churn-baseline', 'constraints.json'));
/** The columns the churn endpoint captured: the baseline's without the Churn label. */
const CHURN_FEATURES = churnConstraints.features.slice(1).map((f) => ({ name: f.name, type: 'numerical' as const }));
const CHURN_END = '2022-04-18T01:00:00.000Z';
const CHURN_BASELINE = { kind: 'model-monitor' as const, statisticsS3Uri: `s3://${BUCKET}/mm/churn/statistics.json`, constraintsS3Uri: `s3://${BUCKET}/mm/churn/constraints.json` };

function config(model: 'plans' | 'churn', drift: PipelineConfigInput['drift'] = {}) {
  return parsePipelineConfig({
    model,
    roleArn: 'arn:aws:iam::000000000000:role/SageMakerRetraining',
    predictorType: 'binary_classifier',
    endpoint: { name: model, captureS3Uri: `s3://${BUCKET}/capture` },
    drift: { windowHours: model === 'plans' ? 3 : 1, minSamples: 100, driftShare: model === 'plans' ? 0.3 : 0.02, ...drift },
    dataset: {
      rootS3Uri: `s3://${BUCKET}/datasets`,
      newDataS3Uri: `s3://${BUCKET}/labels`,
      schema: { label: { name: 'churned', classes: 2 }, features: model === 'plans' ? PLAN_FEATURES : CHURN_FEATURES },
    },
    training: { image: 'unused', outputS3Uri: `s3://${BUCKET}/training` },
    evaluation: { image: 'unused', outputS3Uri: `s3://${BUCKET}/evaluation` },
    reportsS3Uri: `s3://${BUCKET}/reports`,
  });
}

function champion(model: 'plans' | 'churn', datasetVersion = 'v1'): Champion {
  return {
    modelPackageArn: `arn:aws:sagemaker:us-east-1:000000000000:model-package/${model}/1`,
    modelPackageVersion: 1,
    modelDataUrl: `s3://${BUCKET}/model.tar.gz`,
    image: 'unused',
    trainingJobName: null,
    datasetVersion,
    // A Model Monitor baseline needs no dataset lineage.
    datasetManifestUri: model === 'plans' ? `s3://${BUCKET}/datasets/plans/${datasetVersion}/manifest.json` : null,
    endpointConfigName: 'unused',
    modelName: 'unused',
    captureS3Uri: `s3://${BUCKET}/capture`,
  };
}

interface Run {
  model: 'plans' | 'churn';
  runId: string;
  drift?: PipelineConfigInput['drift'];
  datasetVersion?: string;
  windowEnd?: string;
  modelMonitorViolationsS3Uri?: string;
}

function runDetectDrift(run: Run): Promise<DriftSummary> {
  const env = new MockActivityEnvironment({ workflowExecution: { workflowId: 'drift-baselines', runId: run.runId }, heartbeatTimeoutMs: 60_000 });
  return env.run(
    detectDrift,
    s3,
    {
      config: config(run.model, run.drift),
      champion: champion(run.model, run.datasetVersion),
      windowEnd: run.windowEnd ?? (run.model === 'plans' ? PLANS_END : CHURN_END),
      ...(run.modelMonitorViolationsS3Uri ? { modelMonitorViolationsS3Uri: run.modelMonitorViolationsS3Uri } : {}),
    },
    { sagemaker, polling: { firstMs: 100, maxMs: 400, factor: 2 } },
  );
}

async function put(key: string, body: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
}

async function getText(uri: string): Promise<string> {
  const [, bucket, key] = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri)!;
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return object.Body!.transformToString();
}

const getReport = async (uri: string) => JSON.parse(await getText(uri)) as DriftStageReport;

function captureLine(inferenceTime: string, csv: string): string {
  return JSON.stringify({
    captureData: {
      endpointInput: { observedContentType: 'text/csv', mode: 'INPUT', data: csv, encoding: 'CSV' },
      endpointOutput: { observedContentType: 'text/csv', mode: 'OUTPUT', data: '0.5', encoding: 'CSV' },
    },
    eventMetadata: { eventId: `e-${inferenceTime}`, inferenceTime },
    eventVersion: '0',
  });
}

before(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'drift-baselines-test-'));
  stack = await startLocalStack({ dataDir, buckets: [BUCKET], applyToProcess: true });
  s3 = new S3Client({});
  sagemaker = new SageMakerClient({});
  const random = seededRandom(31);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

  // plans: v1 has all three columns; v0 was written before `tenure` existed (its manifest's schema says so).
  const row = (shift: number) => [(50 + 15 * (normal() + shift)).toFixed(2), Math.round(24 + 10 * normal()), ['basic', 'gold', 'pro'][Math.floor(random() * 3)]];
  const train = Array.from({ length: 2_000 }, () => [random() < 0.3 ? 1 : 0, ...row(0)].join(','));
  await put('datasets/plans/v1/train/data.csv', `${train.join('\n')}\n`);
  await put('datasets/plans/v1/manifest.json', JSON.stringify({ versionId: 'v1', schema: { label: { name: 'churned', classes: 2 }, features: PLAN_FEATURES }, splits: { train: { uri: `s3://${BUCKET}/datasets/plans/v1/train/data.csv`, rows: 2_000 } } }));
  const older = train.map((line) => line.split(',').filter((_, i) => i !== 2).join(','));
  await put('datasets/plans/v0/train/data.csv', `${older.join('\n')}\n`);
  await put(
    'datasets/plans/v0/manifest.json',
    JSON.stringify({ versionId: 'v0', schema: { label: { name: 'churned', classes: 2 }, features: PLAN_FEATURES.filter((f) => f.name !== 'tenure') }, splits: { train: { uri: `s3://${BUCKET}/datasets/plans/v0/train/data.csv`, rows: 2_000 } } }),
  );
  // The window, 09:00–12:00: spend moves a standard deviation.
  for (const h of [9, 10, 11]) {
    const lines = Array.from({ length: 300 }, (_, i) => captureLine(`2026-11-24T${String(h).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00Z`, row(1).join(',')));
    await put(`capture/plans/AllTraffic/2026/11/24/${String(h).padStart(2, '0')}/a.jsonl`, lines.join('\n'));
  }

  // churn: the baseline job's files as published, and a window of the example endpoint's three captured
  // records plus 1,000 drawn from the baseline's own sketches, with Day Mins 60 minutes higher.
  await put('mm/churn/statistics.json', churnStatisticsText);
  await put('mm/churn/constraints.json', fixture('churn-baseline', 'constraints.json'));
  const draws = CHURN_FEATURES.map((f) => {
    const stats = churnStatistics.features.find((s) => s.name === f.name);
    if (!stats) return () => 0;
    const sketch = KllSketch.fromModelMonitor(stats.numerical_statistics!.distribution!.kll!.sketch!);
    const items = sketch.weightedValues();
    return () => {
      let target = random() * sketch.count;
      for (const item of items) if ((target -= item.weight) < 0) return item.value;
      return items[items.length - 1]!.value;
    };
  });
  const dayMins = CHURN_FEATURES.findIndex((f) => f.name === 'Day Mins');
  const synthetic = Array.from({ length: 1_000 }, (_, i) =>
    captureLine(`2022-04-18T00:${String(i % 60).padStart(2, '0')}:00Z`, draws.map((draw, j) => Math.round((draw() + (j === dayMins ? 60 : 0)) * 10) / 10).join(',')),
  );
  await put('capture/churn/AllTraffic/2022/04/18/00/real.jsonl', fixture('churn-capture', 'capture.jsonl'));
  await put('capture/churn/AllTraffic/2022/04/18/00/synthetic.jsonl', synthetic.join('\n'));

  // A monitoring execution's verdict, as its constraint_violations.json.
  await put(
    'monitoring/plans/constraint_violations.json',
    JSON.stringify({
      violations: [
        { feature_name: 'spend', constraint_check_type: 'baseline_drift_check', description: 'Numerical distance: 0.35 exceeds numerical threshold: 0.1' },
        { feature_name: 'tenure', constraint_check_type: 'baseline_drift_check', description: 'Numerical distance: 0.11 exceeds numerical threshold: 0.1' },
        { feature_name: 'plan', constraint_check_type: 'data_type_check', description: 'Data type match requirement is not met.' },
      ],
    }),
  );
  // Bad files.
  const broken = JSON.parse(churnStatisticsText);
  broken.features[3].numerical_statistics.common.num_present = 'many';
  await put('mm/broken/statistics.json', JSON.stringify(broken));
  await put('mm/broken/not-json.json', '{"violations": [');
});

after(async () => {
  await stack?.close();
  if (!process.env.KEEP_TEST_DATA) await rm(dataDir, { recursive: true, force: true });
});

/** Every per-feature field the report promises, for a tested feature. */
function assertFeatureFields(f: DriftStageReport['features'][number]): void {
  for (const key of ['name', 'type', 'method', 'yields', 'statistic', 'threshold', 'drifted', 'verdict', 'referenceCount', 'currentCount', 'missingCount', 'referenceMissingCount'] as const) {
    assert.ok(key in f, `${f.name}: ${key}`);
  }
  if (f.verdict !== 'drift' && f.verdict !== 'no_drift') return;
  assert.equal(typeof f.statistic, 'number', `${f.name}: statistic`);
  if (f.yields === 'p_value') assert.equal(typeof f.pValue, 'number', `${f.name}: pValue`);
}

describe('detectDrift with a dataset baseline', () => {
  it('writes drift-report.json, drift-report.html, statistics.json and constraint_violations.json beside the run, and names them', async () => {
    const summary = await runDetectDrift({ model: 'plans', runId: 'run-outputs' });
    const runUri = `s3://${BUCKET}/reports/plans/drift-baselines/run-outputs`;
    assert.deepEqual(
      [summary.reportUri, summary.htmlReportUri, summary.statisticsUri, summary.violationsUri],
      ['drift-report.json', 'drift-report.html', 'statistics.json', 'constraint_violations.json'].map((f) => `${runUri}/${f}`),
    );
    assert.equal(summary.mode, 'default');
    assert.equal(summary.modelMonitor, null);
    assert.deepEqual(summary.driftedFeatures, ['spend']);
    assert.deepEqual(summary.features.map((f) => f.verdict), ['drift', 'no_drift', 'no_drift']);

    const report = await getReport(summary.reportUri!);
    assert.deepEqual([report.statisticsUri, report.violationsUri, report.htmlReportUri], [summary.statisticsUri, summary.violationsUri, summary.htmlReportUri]);
    assert.equal(report.baseline.kind, 'dataset');
    report.features.forEach(assertFeatureFields);
    assert.ok(report.features.every((f) => f.histogram !== null));

    const violations = parseViolations(await getText(summary.violationsUri!), summary.violationsUri!);
    assert.deepEqual(violations.violations.map((v) => [v.feature_name, v.constraint_check_type]), [['spend', 'baseline_drift_check']]);
    const statistics = parseStatistics(await getText(summary.statisticsUri!), summary.statisticsUri!);
    assert.deepEqual(statistics.dataset, { item_count: 900 });

    const html = await getText(summary.htmlReportUri!);
    const svgs = html.match(/<svg[\s\S]*?<\/svg>/g)!;
    assert.equal(svgs.length, 3);
    svgs.forEach((svg) => assert.equal(validateXml(svg), true));
    assert.match(html, /<p class="verdict v-drift">drift<\/p>/);
  });

  it('a version written without a feature: a missing_column finding in either mode, not unreadable rows', async () => {
    for (const mode of ['default', 'model-monitor'] as const) {
      const summary = await runDetectDrift({ model: 'plans', runId: `run-v0-${mode}`, datasetVersion: 'v0', drift: { mode } });
      const report = await getReport(summary.reportUri!);
      const tenure = report.features.find((f) => f.name === 'tenure')!;
      assert.deepEqual([tenure.verdict, tenure.missingFrom], ['missing_column', 'reference'], mode);
      assert.equal(report.baseline.kind === 'dataset' && report.baseline.unreadableRows, 0, mode);
      assert.equal(report.features.find((f) => f.name === 'spend')!.verdict, 'drift', mode);
      const violations = parseViolations(await getText(summary.violationsUri!));
      assert.ok(violations.violations.some((v) => v.feature_name === 'tenure' && v.constraint_check_type === 'extra_column_check'), mode);
    }
  });

  it("model-monitor mode: Model Monitor's checks against the split's statistics and suggested constraints, both written beside the run", async () => {
    const summary = await runDetectDrift({ model: 'plans', runId: 'run-mm-mode', drift: { mode: 'model-monitor' } });
    assert.equal(summary.mode, 'model-monitor');
    assert.deepEqual(summary.driftedFeatures, ['spend']);
    const report = await getReport(summary.reportUri!);
    const spend = report.features.find((f) => f.name === 'spend')!;
    assert.deepEqual([spend.method, spend.threshold, spend.verdict], ['linf_robust', 0.1, 'drift']);
    assert.deepEqual(spend.violations, ['baseline_drift_check']);
    assert.ok(report.suggestedBaseline);
    const constraints = parseConstraints(await getText(report.suggestedBaseline.constraintsUri));
    assert.deepEqual(constraints.features.map((f) => f.name), ['spend', 'tenure', 'plan']);
    assert.deepEqual([...constraints.features[2]!.string_constraints!.domains!].sort(), ['basic', 'gold', 'pro']);
    parseStatistics(await getText(report.suggestedBaseline.statisticsUri));
    const violations = parseViolations(await getText(summary.violationsUri!));
    assert.deepEqual(violations.violations.map((v) => `${v.feature_name}:${v.constraint_check_type}`), ['spend:baseline_drift_check']);
    assert.deepEqual(report.modelMonitorChecks!.byCheck, { baseline_drift_check: ['spend'] });
  });

  it("a monitoring execution's verdict: recorded and counted; trusted, its drift-flagged features count as drifted", async () => {
    const uri = `s3://${BUCKET}/monitoring/plans/constraint_violations.json`;
    const recorded = await runDetectDrift({ model: 'plans', runId: 'run-evidence', modelMonitorViolationsS3Uri: uri });
    assert.deepEqual(recorded.driftedFeatures, ['spend']);
    assert.equal(recorded.modelMonitor!.summary, 'Model Monitor flagged 3 features (2 for drift), 1 of which we also find drifted');
    assert.deepEqual(recorded.modelMonitor!.alsoDriftedHere, ['spend']);
    assert.equal(recorded.modelMonitor!.violationsUri, uri);
    const report = await getReport(recorded.reportUri!);
    assert.equal(report.modelMonitor!.summary, recorded.modelMonitor!.summary);
    assert.deepEqual(report.features.find((f) => f.name === 'plan')!.modelMonitorFlagged, ['data_type_check']);
    const html = await getText(recorded.htmlReportUri!);
    assert.ok(html.includes('Model Monitor flagged 3 features (2 for drift), 1 of which we also find drifted.'));

    const trusted = await runDetectDrift({ model: 'plans', runId: 'run-trusted', modelMonitorViolationsS3Uri: uri, drift: { trustModelMonitor: true, driftShare: 0.5 } });
    assert.deepEqual(trusted.driftedFeatures, ['spend', 'tenure']);
    assert.equal(trusted.verdict, 'drift');
    assert.deepEqual(trusted.modelMonitor!.countedAsDrifted, ['tenure']);
  });

  it('an empty window is insufficient data, with every file still written', async () => {
    const summary = await runDetectDrift({ model: 'plans', runId: 'run-empty', windowEnd: '2027-01-01T00:00:00.000Z', drift: { mode: 'model-monitor' } });
    assert.equal(summary.verdict, 'insufficient_data');
    assert.equal(summary.detected, false);
    assert.deepEqual(parseViolations(await getText(summary.violationsUri!)).violations.filter((v) => v.constraint_check_type === 'baseline_drift_check'), []);
    assert.match(await getText(summary.htmlReportUri!), /insufficient data/);
  });
});

describe('detectDrift with the published churn Model Monitor baseline', () => {
  let workerReport: DriftStageReport;

  it("default mode: each feature compared as the baseline's monitoring_config says; the features its log lost are missing columns", async () => {
    const summary = await runDetectDrift({ model: 'churn', runId: 'run-churn', drift: { baseline: CHURN_BASELINE } });
    assert.equal(summary.currentCount, 1_003, 'three captured records and a thousand drawn');
    assert.equal(summary.referenceCount, 2_333);
    assert.deepEqual(summary.driftedFeatures, ['Day Mins']);
    assert.equal(summary.verdict, 'drift');
    workerReport = await getReport(summary.reportUri!);
    assert.deepEqual(workerReport.baseline.kind, 'model-monitor');
    assert.equal(workerReport.baseline.kind === 'model-monitor' && workerReport.baseline.skipped.length, 41);
    const dayMins = workerReport.features.find((f) => f.name === 'Day Mins')!;
    assert.deepEqual([dayMins.method, dayMins.threshold, dayMins.basis], ['linf_robust', 0.1, 'sketch']);
    workerReport.features.forEach(assertFeatureFields);
    const lost = workerReport.features.find((f) => f.name === 'VMail Plan_yes')!;
    assert.deepEqual([lost.verdict, lost.missingFrom], ['missing_column', 'reference']);
    assert.match(lost.note!, /missing from the Model Monitor baseline: in constraints\.json but not in the baseline statistics/);
    assert.deepEqual([lost.method, lost.threshold], ['linf_robust', 0.1], 'the method the baseline would have used');
    const html = await getText(summary.htmlReportUri!);
    assert.equal(html.match(/<svg /g)!.length, 69);
  });

  it('model-monitor mode: the six checks; Day Mins drifts, the Churn label the window lacks is a missing_column_check', async () => {
    const summary = await runDetectDrift({ model: 'churn', runId: 'run-churn-mm', drift: { baseline: CHURN_BASELINE, mode: 'model-monitor' } });
    assert.deepEqual(summary.driftedFeatures, ['Day Mins']);
    const violations = parseViolations(await getText(summary.violationsUri!));
    const found = violations.violations.map((v) => `${v.feature_name}:${v.constraint_check_type}`);
    assert.ok(found.includes('Day Mins:baseline_drift_check'), found.join(', '));
    assert.ok(found.includes('Churn:missing_column_check'), found.join(', '));
    assert.match(violations.violations.find((v) => v.feature_name === 'Day Mins')!.description!, /^Numerical distance: 0\.\d+ exceeds numerical threshold: 0\.1$/);
    const report = await getReport(summary.reportUri!);
    assert.equal(report.suggestedBaseline, undefined);
    assert.equal(report.features.find((f) => f.name === 'State_KY')!.verdict, 'missing_column');
  });

  it('past the size threshold the window is profiled by a processing job (with an empty baseline input): the same report', async () => {
    const summary = await runDetectDrift({ model: 'churn', runId: 'run-churn-job', drift: { baseline: CHURN_BASELINE, processingJobAboveBytes: 1, processingJob: { image: DRIFT_IMAGE } } });
    const report = await getReport(summary.reportUri!);
    assert.equal(report.processing.mode, 'processing_job');
    for (const key of ['features', 'verdict', 'score', 'driftedFeatures', 'referenceCount', 'currentCount'] as const) assert.deepEqual(report[key], workerReport[key], key);
  });

  it('an empty window is insufficient data', async () => {
    const summary = await runDetectDrift({ model: 'churn', runId: 'run-churn-empty', windowEnd: '2022-04-19T01:00:00.000Z', drift: { baseline: CHURN_BASELINE } });
    assert.equal(summary.verdict, 'insufficient_data');
    assert.equal(summary.currentCount, 0);
  });
});

describe('bad Model Monitor files fail the stage for good, naming the file', () => {
  async function failure(run: Run): Promise<ApplicationFailure> {
    try {
      await runDetectDrift(run);
    } catch (err) {
      assert.ok(err instanceof ApplicationFailure, String(err));
      return err;
    }
    assert.fail('the stage did not fail');
  }

  it('a malformed statistics.json: the S3 URI and the JSON path', async () => {
    const uri = `s3://${BUCKET}/mm/broken/statistics.json`;
    const err = await failure({ model: 'churn', runId: 'run-bad-stats', drift: { baseline: { ...CHURN_BASELINE, statisticsS3Uri: uri } } });
    assert.equal(err.type, 'ModelMonitorFormatError');
    assert.equal(err.nonRetryable, true);
    assert.ok(err.message.startsWith(`${uri} is not a valid Model Monitor file`), err.message);
    assert.match(err.message, /features\[3\]\.numerical_statistics\.common\.num_present: /);
    assert.ok(NON_RETRYABLE.includes(err.type!));
  });

  it('a constraint_violations.json that is not JSON', async () => {
    const uri = `s3://${BUCKET}/mm/broken/not-json.json`;
    const err = await failure({ model: 'plans', runId: 'run-bad-violations', modelMonitorViolationsS3Uri: uri });
    assert.equal(err.type, 'ModelMonitorFormatError');
    assert.match(err.message, /not-json\.json is not a valid Model Monitor file:\n {2}- \(root\): not JSON/);
  });

  it('a file that does not exist, or a URI that is not an object', async () => {
    const missing = await failure({ model: 'churn', runId: 'run-missing', drift: { baseline: { ...CHURN_BASELINE, constraintsS3Uri: `s3://${BUCKET}/mm/nowhere/constraints.json` } } });
    assert.equal(missing.type, 'ModelMonitorFileMissing');
    assert.equal(missing.nonRetryable, true);
    assert.match(missing.message, /mm\/nowhere\/constraints\.json does not exist/);
    const notUri = await failure({ model: 'plans', runId: 'run-not-uri', modelMonitorViolationsS3Uri: 'https://example.com/violations.json' });
    assert.equal(notUri.type, 'ModelMonitorFileMissing');
    assert.ok(NON_RETRYABLE.includes('ModelMonitorFileMissing'));
  });
});
