// Completion without waiting on a poll: the local SageMaker sends its state-change events (twice each,
// as SageMaker may) through the receiver, while the worker polls at most every ten minutes. Only the
// event can end the training wait within the test's time.
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
import { retrainingPipeline } from '../workflows';

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

test('the training job\'s completion event ends the wait at once; duplicate events change nothing', async () => {
  const config = demoConfig({ metricDefinitions: LINEAR_LEARNER_METRIC_DEFINITIONS }) as ReturnType<typeof demoConfig> & { training: { hyperparameters: Record<string, unknown> } };
  config.training.hyperparameters = { ...config.training.hyperparameters, epochs: 3 };
  const handle = await stack.temporal.environment.client.workflow.start(retrainingPipeline, {
    taskQueue: TASK_QUEUE,
    workflowId: 'retrain-with-events',
    args: [{ config, force: true }],
  });
  // The evaluation and endpoint waits still poll every ten minutes here; the training wait is the one
  // under test, so look at the run's progress rather than its end.
  let training;
  for (let i = 0; i < 600 && !training; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const status = await handle.query('status').catch(() => null);
    training = (status as { training?: { noticedBy?: string; status: string }[] } | null)?.training?.[0];
  }
  assert.ok(training, 'the training stage ended within a minute, though the worker polls every ten');
  assert.equal(training.status, 'Completed');
  assert.equal(training.noticedBy, 'event');
  const history = await handle.fetchHistory();
  const signals = (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'trainingJobStateChanged');
  assert.ok(signals.length >= 2, `events were delivered (and duplicated): ${signals.length}`);
  await handle.terminate('the training wait is what this test measures');
});
