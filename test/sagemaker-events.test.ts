// SageMaker's state-change events: routing (pure), and the receiver answering only once the signal is
// durable in a real Temporal server.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { InvalidEventError, routeSageMakerEvent, RUN_TAGS } from '../domain/sagemaker-events';
import { demoConfig } from '../local/demo-data';
import { startLocalTemporal, type LocalTemporal } from '../local/temporal';
import { createSageMakerEventHandler, startEventReceiver, type EventReceiver } from '../receiver/sagemaker-events';
import { retrainingPipeline } from '../workflows';

/** A "SageMaker Training Job State Change" event in the shape AWS documents (detail abridged). */
function trainingEvent(over: { status?: string; tags?: Record<string, string>; id?: string; detail?: Record<string, unknown> } = {}) {
  return {
    version: '0',
    id: over.id ?? '844e2571-85d4-695f-b930-0153b71dcb42',
    'detail-type': 'SageMaker Training Job State Change',
    source: 'aws.sagemaker',
    account: '123456789012',
    time: '2026-11-24T10:00:00Z',
    region: 'us-east-1',
    resources: ['arn:aws:sagemaker:us-east-1:123456789012:training-job/churn-propensity-train-0123456789-a1'],
    detail: {
      TrainingJobName: 'churn-propensity-train-0123456789-a1',
      TrainingJobArn: 'arn:aws:sagemaker:us-east-1:123456789012:training-job/churn-propensity-train-0123456789-a1',
      TrainingJobStatus: over.status ?? 'Completed',
      SecondaryStatus: over.status ?? 'Completed',
      HyperParameters: { epochs: '10' },
      CreationTime: '1764000000000',
      TrainingEndTime: '1764000300000',
      Tags: over.tags ?? { [RUN_TAGS.workflowId]: 'retrain-churn-propensity', [RUN_TAGS.runId]: 'run-1', team: 'growth' },
      ...over.detail,
    },
  };
}

describe('routing', () => {
  test("a pipeline's training job event goes to its run, small", () => {
    const route = routeSageMakerEvent(trainingEvent());
    assert.deepEqual(route, {
      kind: 'signal',
      workflowId: 'retrain-churn-propensity',
      runId: 'run-1',
      change: {
        eventId: '844e2571-85d4-695f-b930-0153b71dcb42',
        time: '2026-11-24T10:00:00Z',
        jobName: 'churn-propensity-train-0123456789-a1',
        status: 'Completed',
        secondaryStatus: 'Completed',
      },
    });
  });

  test('events the pipeline does not own are ignored, with the reason', () => {
    const foreign = routeSageMakerEvent(trainingEvent({ tags: { team: 'growth' } }));
    assert.equal(foreign.kind, 'ignored');
    assert.match((foreign as { reason: string }).reason, /not started by a retraining pipeline \(no retraining:workflow-id tag\)/);
    const processing = routeSageMakerEvent({ ...trainingEvent(), 'detail-type': 'SageMaker Processing Job State Change' });
    assert.equal(processing.kind, 'ignored');
    const other = routeSageMakerEvent({ ...trainingEvent(), source: 'aws.s3' });
    assert.equal(other.kind, 'ignored');
    const progress = routeSageMakerEvent(trainingEvent({ status: 'InProgress' }));
    assert.deepEqual(progress, { kind: 'ignored', reason: 'training job churn-propensity-train-0123456789-a1 is InProgress, not ended' });
  });

  test('a malformed event is rejected, naming the field', () => {
    assert.throws(() => routeSageMakerEvent({ hello: 'world' }), (err: Error) => err instanceof InvalidEventError && /not an EventBridge event: version: .*; id: .*; detail-type: /.test(err.message));
    assert.throws(
      () => routeSageMakerEvent(trainingEvent({ detail: { TrainingJobName: undefined } })),
      /invalid SageMaker Training Job State Change: detail\.TrainingJobName/,
    );
    assert.throws(() => routeSageMakerEvent(trainingEvent({ status: 'Exploded' })), /detail\.TrainingJobStatus/);
  });
});

describe('the receiver, on a real Temporal server', () => {
  let dataDir: string;
  let temporal: LocalTemporal;
  let receiver: EventReceiver;
  const post = (body: unknown, headers: Record<string, string> = { 'x-api-key': 'secret' }) =>
    fetch(receiver.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'events-test-'));
    temporal = await startLocalTemporal({ dbFile: path.join(dataDir, 'temporal.db') });
    receiver = await startEventReceiver({ client: temporal.environment.client, apiKey: 'secret' });
  });

  after(async () => {
    await receiver?.close();
    await temporal?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('answers 200 only once the signal is in the run\'s history; duplicates are harmless', async () => {
    // A run with no worker: the signal is still durable, and that is what 200 promises.
    const handle = await temporal.environment.client.workflow.start(retrainingPipeline, {
      taskQueue: 'no-worker',
      workflowId: 'retrain-churn-propensity',
      args: [{ config: demoConfig() }],
    });
    const event = trainingEvent({ tags: { [RUN_TAGS.workflowId]: handle.workflowId, [RUN_TAGS.runId]: handle.firstExecutionRunId } });
    for (let i = 0; i < 2; i++) {
      const response = await post(event);
      assert.equal(response.status, 200, await response.text());
    }
    const history = await handle.fetchHistory();
    const signals = (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'trainingJobStateChanged');
    assert.equal(signals.length, 2, 'both deliveries are recorded; the run treats the second as a no-op');
    await handle.terminate('test done');
  });

  test('a late event for an ended run is accepted and ignored', async () => {
    const response = await post(trainingEvent({ tags: { [RUN_TAGS.workflowId]: 'no-such-run' } }));
    assert.equal(response.status, 202);
    assert.match(((await response.json()) as { ignored: string }).ignored, /has ended or does not exist/);
  });

  test('bad input gets a clear 4xx: no key, wrong key, not JSON, not an event', async () => {
    assert.equal((await post(trainingEvent(), {})).status, 401);
    assert.equal((await post(trainingEvent(), { 'x-api-key': 'secreT' })).status, 401);
    const notJson = await post('{"version": ');
    assert.equal(notJson.status, 400);
    assert.match(((await notJson.json()) as { error: string }).error, /body is not JSON/);
    const notEvent = await post({ detail: {} });
    assert.equal(notEvent.status, 400);
    assert.match(((await notEvent.json()) as { error: string }).error, /not an EventBridge event/);
    assert.equal((await fetch(receiver.url)).status, 405);
  });

  test('the Lambda handler delivers the same way and throws on what it cannot deliver', async () => {
    const handler = createSageMakerEventHandler(temporal.environment.client);
    assert.deepEqual(await handler(trainingEvent({ tags: { team: 'growth' } })), {
      ignored: 'training job churn-propensity-train-0123456789-a1 was not started by a retraining pipeline (no retraining:workflow-id tag)',
    });
    await assert.rejects(handler({ nope: true }), /not an EventBridge event/);
  });
});
