// The rollback command, end to end: two promoted runs put v1 then v2 on the endpoint; `retrain rollback`
// (the package's bin, run as its own process against the dev server) puts v1 back as its own workflow
// and retires v2 in the registry. Refusals come back as clear errors and exit codes.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeModelPackageCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { resolveChampion } from '../activities/champion';
import { parsePipelineConfig, type PipelineConfigInput } from '../domain/config';
import { customers, DEMO_BUCKET, demoConfig, labelledCsv } from '../local/demo-data';
import { startLocalStack, startLocalWorker, type LocalStack } from '../local/stack';
import { runRetrain, type RetrainResult } from './support/retrain-cli';
import { retrainingPipeline, type RetrainingOutcome, type RollbackOutcome } from '../workflows';

const TASK_QUEUE = 'rollback-test';
let dataDir: string;
let stack: LocalStack;
let worker: Awaited<ReturnType<typeof startLocalWorker>>;
let configFile: string;

// A tie promotes (minImprovement 0), so the second run replaces the first whatever the metrics.
const config: PipelineConfigInput = { ...demoConfig(), gate: { minImprovement: 0 } };

before(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'rollback-'));
  stack = await startLocalStack({ dataDir, buckets: [DEMO_BUCKET], applyToProcess: true });
  worker = await startLocalWorker(stack, { taskQueue: TASK_QUEUE, jobPolling: { firstMs: 200, maxMs: 1000 } });
  configFile = path.join(dataDir, 'churn-propensity.json');
  await writeFile(configFile, JSON.stringify(config));
});

after(async () => {
  await worker?.stop();
  await stack?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function promote(workflowId: string, labels: string): Promise<RetrainingOutcome> {
  await new S3Client({}).send(new PutObjectCommand({ Bucket: DEMO_BUCKET, Key: `labels/${workflowId}.csv`, Body: labels }));
  const outcome = await stack.temporal.environment.client.workflow.execute(retrainingPipeline, { taskQueue: TASK_QUEUE, workflowId, args: [{ config, force: true }] });
  assert.equal(outcome.decision, 'promoted', outcome.reason);
  return outcome;
}

function retrain(...args: string[]): Promise<RetrainResult> {
  return runRetrain(stack.env, ...args);
}

async function answeredBy(): Promise<string | undefined> {
  const response = await new SageMakerRuntimeClient({}).send(
    new InvokeEndpointCommand({ EndpointName: 'churn-propensity', ContentType: 'text/csv', Accept: 'application/json', Body: new TextEncoder().encode('30,70,12,2') }),
  );
  return /training_job_name=([^;,\s]+)/.exec(response.CustomAttributes ?? '')?.[1];
}

test('rollback puts the previous champion back and retires the serving package; refusals are clear', async () => {
  const first = await promote('rollback-v1', labelledCsv(customers('before', 3000, 1)));
  const second = await promote('rollback-v2', labelledCsv(customers('after', 1000, 2)));
  assert.equal(await answeredBy(), second.training.at(-1)!.jobName, 'v2 serves before the rollback');

  const sagemaker = new SageMakerClient({});
  const v2 = await sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: second.modelPackageArn! }));
  assert.equal(v2.CustomerMetadataProperties?.PreviousModelPackageArn, first.modelPackageArn, 'v2 records the champion it replaced');

  // Bad usage: no reason. Exit 2, nothing started.
  const noReason = await retrain('rollback', '--config', configFile, '--approver', 'ana@example.com', '--reason', ' ', '--task-queue', TASK_QUEUE);
  assert.equal(noReason.code, 2, noReason.stderr);
  assert.match(noReason.stderr, /"reason" is required/);

  const rolled = await retrain('rollback', '--config', configFile, '--approver', 'ana@example.com', '--reason', 'v2 mis-scores new customers', '--task-queue', TASK_QUEUE, '--json');
  assert.equal(rolled.code, 0, rolled.stderr);
  const outcome = JSON.parse(rolled.stdout.trim().split('\n').at(-1)!) as RollbackOutcome;
  assert.equal(outcome.restored.modelPackageArn, first.modelPackageArn);
  assert.equal(outcome.restored.chosenBy, 'lineage');
  assert.equal(outcome.retired.modelPackageArn, second.modelPackageArn);
  assert.equal(outcome.endpoint.status, 'rolled_back');

  assert.equal(await answeredBy(), first.training.at(-1)!.jobName, 'v1 answers again');
  const champion = await resolveChampion(sagemaker, parsePipelineConfig(config));
  assert.equal(champion?.modelPackageArn, first.modelPackageArn, 'the champion is v1 again');
  const retired = await sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: second.modelPackageArn! }));
  assert.equal(retired.ModelApprovalStatus, 'Rejected');
  assert.equal(retired.ApprovalDescription, 'rolled back: rejected by ana@example.com: v2 mis-scores new customers');

  // v1 was the first model: nothing recorded before it, so a second rollback is refused, saying why.
  const again = await retrain('rollback', '--config', configFile, '--approver', 'ana@example.com', '--reason', 'again', '--task-queue', TASK_QUEUE);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /records no PreviousModelPackageArn: it was the first model/);
  // And a Rejected package is not put back.
  const toRejected = await retrain('rollback', '--config', configFile, '--to', second.modelPackageArn!, '--approver', 'ana@example.com', '--reason', 'undo', '--task-queue', TASK_QUEUE);
  assert.equal(toRejected.code, 1);
  assert.match(toRejected.stderr, /is Rejected \(rolled back: rejected by ana@example\.com/);
});
