// Promotion through whole runs on the dev server and the local SageMaker: a candidate whose model never
// becomes healthy, one whose answers fail the smoke test, and one that trips an alarm during a canary's
// baking all end `rolled_back` with the champion still answering and their packages marked Rejected;
// a clean LINEAR rollout then promotes.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeModelPackageCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { PipelineConfigInput } from '../domain/config';
import { customers, DEMO_BUCKET, demoConfig, labelledCsv } from '../local/demo-data';
import { FAULTS_TAG } from '../local/sagemaker';
import { startLocalStack, startLocalWorker, type LocalStack } from '../local/stack';
import { retrainingPipeline, type RetrainingOutcome } from '../workflows';

const TASK_QUEUE = 'promotion-test';
let dataDir: string;
let stack: LocalStack;
let worker: Awaited<ReturnType<typeof startLocalWorker>>;
let runs = 0;

before(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'promotion-'));
  stack = await startLocalStack({ dataDir, buckets: [DEMO_BUCKET], applyToProcess: true });
  worker = await startLocalWorker(stack, { taskQueue: TASK_QUEUE, jobPolling: { firstMs: 200, maxMs: 1000 } });
  await new S3Client({}).send(new PutObjectCommand({ Bucket: DEMO_BUCKET, Key: 'labels/initial.csv', Body: labelledCsv(customers('before', 3000, 1)) }));
});

after(async () => {
  await worker?.stop();
  await stack?.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** The demo config with a tie promoting (minImprovement 0), so each run's candidate reaches the endpoint. */
function config(endpoint: Record<string, unknown> = {}): PipelineConfigInput {
  const base = demoConfig();
  return { ...base, endpoint: { ...base.endpoint, ...endpoint }, gate: { minImprovement: 0 } };
}

async function run(input: PipelineConfigInput): Promise<RetrainingOutcome> {
  return stack.temporal.environment.client.workflow.execute(retrainingPipeline, { taskQueue: TASK_QUEUE, workflowId: `promotion-${++runs}`, args: [{ config: input, force: true }] });
}

async function answeredBy(): Promise<string | undefined> {
  const response = await new SageMakerRuntimeClient({}).send(
    new InvokeEndpointCommand({ EndpointName: 'churn-propensity', ContentType: 'text/csv', Accept: 'application/json', Body: new TextEncoder().encode('30,70,12,2') }),
  );
  return /training_job_name=([^;,\s]+)/.exec(response.CustomAttributes ?? '')?.[1];
}

async function approvalOf(arn: string): Promise<{ status?: string; description?: string }> {
  const pkg = await new SageMakerClient({}).send(new DescribeModelPackageCommand({ ModelPackageName: arn }));
  return { status: pkg.ModelApprovalStatus, description: pkg.ApprovalDescription };
}

test('failed health check, failed smoke test and an alarm while baking each roll back with the champion answering; a clean rollout promotes', async () => {
  const first = await run(config());
  assert.equal(first.decision, 'promoted', first.reason);
  assert.equal(first.smokeTest?.status, 'passed');
  assert.equal(first.smokeTest?.rows, 20);
  const champion = first.training.at(-1)!.jobName;
  assert.equal(await answeredBy(), champion);

  // 1. The new model never passes /ping: SageMaker rolls the blue/green update back by itself.
  const unhealthy = await run(config({ tags: { [FAULTS_TAG]: 'unhealthy' } }));
  assert.equal(unhealthy.decision, 'rolled_back', unhealthy.reason);
  assert.equal(unhealthy.deployment?.status, 'rolled_back');
  assert.match(unhealthy.reason, /the deployment did not take: .*ping health check/);
  assert.equal(await answeredBy(), champion, 'the champion still answers');
  const unhealthyPackage = await approvalOf(unhealthy.modelPackageArn!);
  assert.equal(unhealthyPackage.status, 'Rejected');
  assert.match(unhealthyPackage.description ?? '', /^deployment rolled back: the deployment did not take/);

  // 2. Healthy, but every invocation fails: the smoke test catches it and puts the champion back.
  const erring = await run(config({ tags: { [FAULTS_TAG]: 'invocation-errors' } }));
  assert.equal(erring.decision, 'rolled_back', erring.reason);
  assert.equal(erring.deployment?.status, 'deployed');
  assert.equal(erring.smokeTest?.status, 'rolled_back');
  assert.ok((erring.smokeTest?.mismatches.length ?? 0) > 0, 'the failing rows are listed');
  assert.match(erring.reason, /^the smoke test failed/);
  assert.equal(await answeredBy(), champion, 'the champion answers again');
  assert.equal((await approvalOf(erring.modelPackageArn!)).status, 'Rejected');

  // 3. A canary whose alarm goes off while baking: rolled back, champion answering.
  const alarmed = await run(
    config({
      tags: { [FAULTS_TAG]: 'alarm:churn-propensity-5xx@1' },
      deployment: {
        trafficRouting: 'CANARY',
        canarySize: { type: 'CAPACITY_PERCENT', value: 50 },
        waitIntervalSeconds: 2,
        bakingSeconds: 2,
        rollbackAlarms: ['churn-propensity-5xx'],
      },
    }),
  );
  assert.equal(alarmed.decision, 'rolled_back', alarmed.reason);
  assert.equal(alarmed.deployment?.status, 'rolled_back');
  assert.match(alarmed.reason, /churn-propensity-5xx/);
  assert.equal(await answeredBy(), champion);

  // 4. A clean LINEAR rollout with the same alarm configured: promoted, and the new model answers.
  const clean = await run(
    config({
      deployment: { trafficRouting: 'LINEAR', linearStepSize: { type: 'CAPACITY_PERCENT', value: 50 }, waitIntervalSeconds: 1, bakingSeconds: 1, rollbackAlarms: ['churn-propensity-5xx'] },
    }),
  );
  assert.equal(clean.decision, 'promoted', clean.reason);
  assert.equal(clean.deployment?.status, 'deployed');
  assert.equal(clean.smokeTest?.status, 'passed');
  assert.equal(await answeredBy(), clean.training.at(-1)!.jobName);
  assert.equal((await approvalOf(clean.modelPackageArn!)).status, 'Approved');

  // The rolled-back runs are a list filter away (docs/operations.md), apart from the promoted ones.
  const client = stack.temporal.environment.client;
  const idsOf = async (query: string) => {
    const ids: string[] = [];
    for await (const w of client.workflow.list({ query })) ids.push(w.workflowId);
    return ids.sort();
  };
  let rolledBack: string[] = [];
  for (let i = 0; i < 50 && rolledBack.length < 3; i++) {
    rolledBack = await idsOf(`GateDecision = 'rolled_back'`);
    if (rolledBack.length < 3) await new Promise((r) => setTimeout(r, 200));
  }
  assert.deepEqual(rolledBack, ['promotion-2', 'promotion-3', 'promotion-4']);
  assert.deepEqual(await idsOf(`GateDecision = 'promote' AND ExecutionStatus = 'Completed'`), ['promotion-1', 'promotion-5']);
});
