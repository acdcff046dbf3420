// Completion without waiting on a poll: the local SageMaker sends its state-change events (twice each,
// as SageMaker may) through the receiver, while the worker polls at most every ten minutes. Only the
// events can end the training and evaluation waits within the test's time; the processing job's event
// carries no tags, so the receiver reads them from the local SageMaker (ListTags).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { LINEAR_LEARNER_METRIC_DEFINITIONS } from '../local/algorithms/linear-learner/metrics';
import { customers, DEMO_BUCKET, demoConfig, labelledCsv } from '../local/demo-data';
import { startLocalStack, startLocalWorker, type LocalStack } from '../local/stack';
import { freePort } from '../local/temporal';
import { startEventReceiver, type EventReceiver } from '../receiver/sagemaker-events';
import { retrainingPipeline, statusQuery, type RetrainingStatus } from '../workflows';

const TASK_QUEUE = 'pipeline-events-test';
let dataDir: string;
let stack: LocalStack;
let receiver: EventReceiver;
let worker: Awaited<ReturnType<typeof startLocalWorker>>;

before(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'pipeline-events-'));
  const port = await freePort();
  stack = await startLocalStack({
    dataDir,
    buckets: [DEMO_BUCKET],
    applyToProcess: true,
    sageMaker: { eventTargets: [`http://127.0.0.1:${port}/`], eventHeaders: { 'x-api-key': 'local' }, duplicateEvents: true },
  });
  receiver = await startEventReceiver({ client: stack.temporal.environment.client, apiKey: 'local', port });
  // Fast first polls would notice short jobs anyway; start slow so the event is what ends the wait.
  worker = await startLocalWorker(stack, { taskQueue: TASK_QUEUE, jobPolling: { firstMs: 600_000, maxMs: 600_000 } });
  await new S3Client({}).send(new PutObjectCommand({ Bucket: DEMO_BUCKET, Key: 'labels/initial.csv', Body: labelledCsv(customers('before', 3000, 1)) }));
});

after(async () => {
  await worker?.stop();
  await receiver?.close();
  await stack?.close();
  await rm(dataDir, { recursive: true, force: true });
});

test("the training and evaluation jobs' completion events end their waits at once; duplicate events change nothing", async () => {
  const config = demoConfig({ metricDefinitions: LINEAR_LEARNER_METRIC_DEFINITIONS }) as ReturnType<typeof demoConfig> & { training: { hyperparameters: Record<string, unknown> } };
  config.training.hyperparameters = { ...config.training.hyperparameters, epochs: 3 };
  const handle = await stack.temporal.environment.client.workflow.start(retrainingPipeline, {
    taskQueue: TASK_QUEUE,
    workflowId: 'retrain-with-events',
    args: [{ config, force: true }],
  });
  // The endpoint wait still polls every ten minutes here; the job waits are the ones under test, so
  // look at the run's progress rather than its end.
  let status: RetrainingStatus | null = null;
  for (let i = 0; i < 900 && !status?.evaluation; i++) {
    await new Promise((r) => setTimeout(r, 100));
    status = await handle.query(statusQuery).catch(() => null);
  }
  const training = status?.training[0];
  assert.ok(training, 'the training stage ended within a minute and a half, though the worker polls every ten');
  assert.equal(training.status, 'Completed');
  assert.equal(training.noticedBy, 'event');
  const evaluation = status?.evaluation;
  assert.ok(evaluation, 'the evaluation stage ended too, with no poll to notice it');
  assert.equal(evaluation.noticedBy, 'event');
  assert.equal(evaluation.reattached, false);
  assert.ok(Object.values(evaluation.candidate).some(Number.isFinite), 'the candidate was scored');

  const history = await handle.fetchHistory();
  const signalled = (name: string) => (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === name).length;
  assert.ok(signalled('trainingJobStateChanged') >= 2, `training events were delivered (and duplicated): ${signalled('trainingJobStateChanged')}`);
  assert.ok(signalled('processingJobStateChanged') >= 2, `processing events were delivered (and duplicated): ${signalled('processingJobStateChanged')}`);
  await handle.terminate('the job waits are what this test measures');
});
