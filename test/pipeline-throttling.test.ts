// A whole pipeline against a SageMaker that throttles and fails calls: a third of all control-plane calls
// answer ThrottlingException and a tenth InternalFailure (HTTP 500), on a real dev server. The run must
// still end as it would on a quiet day, with exactly one training job and one model package.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ListModelPackagesCommand, ListTrainingJobsCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { LINEAR_LEARNER_METRIC_DEFINITIONS } from '../local/algorithms/linear-learner/metrics';
import { customers, DEMO_BUCKET, demoConfig, labelledCsv } from '../local/demo-data';
import type { ObservedCall } from '../local/sagemaker';
import { startLocalStack, startLocalWorker, type LocalStack } from '../local/stack';
import { retrainingPipeline } from '../workflows';

const TASK_QUEUE = 'pipeline-throttling-test';
let dataDir: string;
let stack: LocalStack;
let worker: Awaited<ReturnType<typeof startLocalWorker>>;
const refused = new Map<string, number>();

before(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'pipeline-throttling-'));
  stack = await startLocalStack({
    dataDir,
    buckets: [DEMO_BUCKET],
    applyToProcess: true,
    observeSageMakerCall: (call: ObservedCall) => {
      if (call.refused && call.error) refused.set(call.error, (refused.get(call.error) ?? 0) + 1);
    },
    sageMaker: { faults: { throttleRate: 0.33, internalErrorRate: 0.1, seed: 11 } },
  });
  worker = await startLocalWorker(stack, { taskQueue: TASK_QUEUE, jobPolling: { firstMs: 100, maxMs: 300 } });
});

after(async () => {
  await worker?.stop();
  await stack?.close();
  await rm(dataDir, { recursive: true, force: true });
});

test('throttled and failing SageMaker calls are retried with backoff: the run promotes its model, with one job and one package', async () => {
  await new S3Client({}).send(new PutObjectCommand({ Bucket: DEMO_BUCKET, Key: 'labels/initial.csv', Body: labelledCsv(customers('before', 2000, 1)) }));
  const handle = await stack.temporal.environment.client.workflow.start(retrainingPipeline, {
    taskQueue: TASK_QUEUE,
    workflowId: 'throttled-run',
    args: [{ config: demoConfig({ metricDefinitions: LINEAR_LEARNER_METRIC_DEFINITIONS }) }],
  });
  const outcome = await handle.result();
  assert.equal(outcome.decision, 'promoted', outcome.reason);
  assert.equal(outcome.training.length, 1);
  assert.equal(outcome.serving?.servingNewModel, true);
  assert.ok((refused.get('ThrottlingException') ?? 0) >= 10, `expected throttled calls, saw ${JSON.stringify([...refused])}`);
  assert.ok((refused.get('InternalFailure') ?? 0) >= 3, `expected failed calls, saw ${JSON.stringify([...refused])}`);

  // Counted with a client that outlasts the faults.
  const sagemaker = new SageMakerClient({ maxAttempts: 30 });
  const jobs = await sagemaker.send(new ListTrainingJobsCommand({ MaxResults: 100 }));
  assert.deepEqual(jobs.TrainingJobSummaries?.map((j) => j.TrainingJobName), [outcome.training[0]!.jobName]);
  const packages = await sagemaker.send(new ListModelPackagesCommand({ ModelPackageGroupName: outcome.model }));
  assert.equal(packages.ModelPackageSummaryList?.length, 1);
});
