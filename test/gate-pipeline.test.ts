// The gate on a real Temporal dev server, against the local SageMaker and S3: the evaluation job's
// slices, paired statistics and predictions reach the run, and a candidate that wins overall but
// regresses on a slice is rejected with the slice named. The runs share one endpoint, in order.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeEndpointCommand, DescribeModelPackageCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { Client } from '@temporalio/client';
import type { PipelineConfigInput } from '../domain/config';
import { LINEAR_LEARNER_METRIC_DEFINITIONS } from '../local/algorithms/linear-learner/metrics';
import { customers, DEMO_BUCKET, demoConfig, labelledCsv } from '../local/demo-data';
import { startLocalStack, startLocalWorker, type LocalStack } from '../local/stack';
import { retrainingPipeline, type RetrainingInput, type RetrainingOutcome } from '../workflows';

const TASK_QUEUE = 'gate-pipeline-test';
let dataDir: string;
let stack: LocalStack;
let worker: Awaited<ReturnType<typeof startLocalWorker>>;
let client: Client;
let s3: S3Client;
let sagemaker: SageMakerClient;
let runtime: SageMakerRuntimeClient;
let runs = 0;

/** The demo config with slices on two features; the gate as each test sets it. */
function config(gate: PipelineConfigInput['gate']): PipelineConfigInput {
  const base = demoConfig({ metricDefinitions: LINEAR_LEARNER_METRIC_DEFINITIONS });
  return {
    ...base,
    evaluation: {
      ...base.evaluation,
      slices: [
        { feature: 'monthly_spend', edges: [35, 45, 50, 55, 65] },
        { feature: 'support_calls', edges: [2, 3, 4] },
      ],
      bootstrap: { resamples: 300, seed: 1 },
    },
    gate,
  };
}

before(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'gate-pipeline-test-'));
  stack = await startLocalStack({ dataDir, buckets: [DEMO_BUCKET], applyToProcess: true });
  s3 = new S3Client({});
  sagemaker = new SageMakerClient({});
  runtime = new SageMakerRuntimeClient({});
  client = stack.temporal.environment.client;
  worker = await startLocalWorker(stack, { taskQueue: TASK_QUEUE, jobPolling: { firstMs: 100, maxMs: 200 } });
});

after(async () => {
  await worker?.stop();
  await stack?.close();
  if (!process.env.KEEP_TEST_DATA) await rm(dataDir, { recursive: true, force: true });
  else console.log('kept', dataDir);
});

async function run(input: RetrainingInput): Promise<RetrainingOutcome> {
  const handle = await client.workflow.start(retrainingPipeline, { taskQueue: TASK_QUEUE, workflowId: `gate-test-${++runs}`, args: [input] });
  return handle.result();
}

async function putLabels(key: string, body: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: DEMO_BUCKET, Key: `labels/${key}`, Body: body }));
}

async function readS3(uri: string): Promise<string> {
  const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri)!;
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return object.Body!.transformToString();
}

test('the first model: slices scored for the candidate alone, judged on thresholds, predictions beside the report', async () => {
  await putLabels('2026-10-01-initial.csv', labelledCsv(customers('before', 4000, 1)));
  const outcome = await run({ config: config({ minImprovement: 0.01, thresholds: { accuracy: { min: 0.6 } }, sliceTolerance: 0, significance: { test: 'mcnemar' } }) });
  assert.equal(outcome.decision, 'promoted', outcome.reason);
  const evaluation = outcome.evaluation!;
  assert.equal(outcome.gate!.reasons[0], `There is no champion yet, so the candidate (accuracy ${Number(evaluation.candidate.accuracy!.toPrecision(6))}) is judged on the threshold alone (slices and significance need a champion to compare with).`);
  assert.deepEqual(
    evaluation.slices.map((s) => s.name),
    ['monthly_spend < 35', 'monthly_spend in [35, 45)', 'monthly_spend in [45, 50)', 'monthly_spend in [50, 55)', 'monthly_spend in [55, 65)', 'monthly_spend >= 65', 'support_calls < 2', 'support_calls in [2, 3)', 'support_calls in [3, 4)', 'support_calls >= 4'],
  );
  assert.equal(evaluation.slices.slice(0, 6).reduce((sum, s) => sum + s.rows, 0), evaluation.holdoutRows, 'every holdout row is in one bucket');
  assert.ok(evaluation.slices.every((s) => s.champion === null));
  assert.equal(evaluation.paired, null);
  assert.deepEqual(evaluation.trainingMetrics, outcome.training[0]!.finalMetrics);
  assert.ok(Object.keys(evaluation.trainingMetrics).length > 0, 'the training job reported final metrics');

  // The predictions file answers for every holdout row as the endpoint does.
  const lines = (await readS3(evaluation.predictionsUri)).trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, evaluation.holdoutRows);
  const holdout = (await readS3(outcome.dataset!.channels.holdout)).trimEnd().split('\n');
  const sample = holdout.slice(0, 5).map((row) => row.split(',').slice(1).join(','));
  const served = await runtime.send(new InvokeEndpointCommand({ EndpointName: 'churn-propensity', ContentType: 'text/csv', Accept: 'application/jsonlines', Body: new TextEncoder().encode(sample.join('\n')) }));
  const answers = new TextDecoder().decode(served.Body).trimEnd().split('\n');
  assert.deepEqual(answers, lines.slice(0, 5).map((l) => JSON.stringify(l.candidate)));
  assert.deepEqual(lines.slice(0, 5).map((l) => l.label), holdout.slice(0, 5).map((row) => Number(row.split(',')[0])));
});

test('a candidate that wins overall but regresses on a slice is registered Rejected, the slice named, and not deployed', async () => {
  const before = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'churn-propensity' }));
  const traffic = customers('after', 1200, 2).map((c) => c.features);
  for (let i = 0; i < traffic.length; i += 10) {
    const body = traffic.slice(i, i + 10).map((r) => r.join(',')).join('\n');
    await runtime.send(new InvokeEndpointCommand({ EndpointName: 'churn-propensity', ContentType: 'text/csv', Body: new TextEncoder().encode(body) }));
  }
  await new Promise((r) => setTimeout(r, 1500)); // data capture flushes every second
  await putLabels('2026-11-24.csv', labelledCsv(customers('after', 2000, 3)));

  // No slice may be worse at all: some bucket of ten is, though the candidate wins overall.
  const outcome = await run({ config: config({ minImprovement: 0, sliceTolerance: 0, minSliceRows: 1, significance: { test: 'paired-bootstrap', alpha: 0.1 } }) });
  const gate = outcome.gate!;
  assert.equal(outcome.decision, 'rejected', outcome.reason);
  assert.ok(gate.improvement! > 0, `the candidate wins overall: improvement ${gate.improvement}`);
  assert.equal(gate.checks.find((c) => c.check === 'improvement')!.outcome, 'passed');
  const failed = gate.checks.filter((c) => c.outcome === 'failed');
  assert.ok(failed.length > 0 && failed.every((c) => c.check === 'slice'), gate.reasons.join('\n'));
  for (const check of failed) {
    assert.match(check.reason, new RegExp(`^On slice ${check.slice!.name.replace(/[[\]()]/g, '\\$&')} \\(\\d+ rows\\) the candidate's accuracy [\\d.]+ against the champion's [\\d.]+ is worse by [\\d.e-]+, more than the sliceTolerance of 0\\.$`));
    assert.ok(check.candidate! < check.champion!);
  }
  assert.equal(gate.reasons[0], failed[0].reason, 'failed checks come first');

  // The paired statistics reached the gate: the bootstrap at the confidence its alpha asks for.
  const paired = outcome.evaluation!.paired!;
  assert.equal(paired.rows, outcome.evaluation!.holdoutRows);
  assert.ok(paired.discordantPairs!.candidateOnlyCorrect + paired.discordantPairs!.championOnlyCorrect > 0);
  assert.deepEqual([paired.bootstrap!.metric, paired.bootstrap!.confidence, paired.bootstrap!.resamples, paired.bootstrap!.seed], ['accuracy', 0.9, 300, 1]);
  assert.ok(Math.abs(paired.bootstrap!.observed - gate.improvement!) < 1e-12, 'the bootstrap observes the same improvement the gate measures');
  assert.ok(gate.checks.some((c) => c.check === 'significance'));

  const registered = await sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: outcome.modelPackageArn! }));
  assert.equal(registered.ModelApprovalStatus, 'Rejected');
  assert.match(registered.ApprovalDescription ?? '', /^gate: On slice /);
  const after = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'churn-propensity' }));
  assert.equal(after.EndpointConfigName, before.EndpointConfigName, 'the champion keeps serving');
});
