// SageMaker's state-change events: routing (pure), and the receiver answering only once the signal is
// durable in a real Temporal server.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { S3Client } from '@aws-sdk/client-s3';
import { CreateProcessingJobCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { InvalidEventError, routeSageMakerEvent, RUN_TAGS } from '../domain/sagemaker-events';
import { demoConfig } from '../local/demo-data';
import { LOCAL_S3_CREDENTIALS, startLocalS3, type LocalS3 } from '../local/s3';
import { startLocalSageMaker, type LocalSageMaker } from '../local/sagemaker';
import { freePort, startLocalTemporal, type LocalTemporal } from '../local/temporal';
import { createSageMakerEventHandler, deliverSageMakerEvent, startEventReceiver, type EventReceiver } from '../receiver/sagemaker-events';
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

/** A pipeline-derived evaluation job name (sageMakerName's shape). */
const EVAL_JOB = 'churn-propensity-eval-0123456789ab';

/**
 * A "SageMaker Processing Job State Change" event in the shape AWS documents (detail abridged): a
 * DescribeProcessingJob-shaped detail, epoch-millisecond numbers, and no Tags.
 */
function processingEvent(over: { status?: string; name?: string; detail?: Record<string, unknown>; resources?: string[] } = {}) {
  const name = over.name ?? EVAL_JOB;
  const arn = `arn:aws:sagemaker:us-east-1:123456789012:processing-job/${name}`;
  return {
    version: '0',
    id: '0a15f67d-aa23-0123-0123-01a23w89r01t',
    'detail-type': 'SageMaker Processing Job State Change',
    source: 'aws.sagemaker',
    account: '123456789012',
    time: '2026-11-24T10:05:00Z',
    region: 'us-east-1',
    resources: over.resources ?? [arn],
    detail: {
      ProcessingJobName: name,
      ProcessingResources: { ClusterConfig: { InstanceCount: 1, InstanceType: 'ml.m5.large', VolumeSizeInGB: 10 } },
      AppSpecification: { ImageUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/sagemaker-retraining-evaluation:latest' },
      RoleArn: 'arn:aws:iam::123456789012:role/SageMakerRole',
      ExperimentConfig: {},
      ProcessingJobArn: arn,
      ProcessingJobStatus: over.status ?? 'Completed',
      ProcessingEndTime: 1764000360000,
      ProcessingStartTime: 1764000310000,
      LastModifiedTime: 1764000360000,
      CreationTime: 1764000300000,
      ...over.detail,
    },
  };
}

const RUN = { [RUN_TAGS.workflowId]: 'retrain-churn-propensity', [RUN_TAGS.runId]: 'run-1', [RUN_TAGS.model]: 'churn-propensity' };

describe('routing', () => {
  test("a pipeline's training job event goes to its run, small", () => {
    const route = routeSageMakerEvent(trainingEvent());
    assert.deepEqual(route, {
      kind: 'signal',
      job: 'training',
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
    const endpoint = routeSageMakerEvent({ ...trainingEvent(), 'detail-type': 'SageMaker Endpoint State Change' });
    assert.deepEqual(endpoint, { kind: 'ignored', reason: '"SageMaker Endpoint State Change" events are not handled here' });
    const other = routeSageMakerEvent({ ...trainingEvent(), source: 'aws.s3' });
    assert.equal(other.kind, 'ignored');
    const progress = routeSageMakerEvent(trainingEvent({ status: 'InProgress' }));
    assert.deepEqual(progress, { kind: 'ignored', reason: 'training job churn-propensity-train-0123456789-a1 is InProgress, not ended' });
  });

  test("a processing job's end asks for its tags (the event has none), then goes to its run", () => {
    for (const status of ['Completed', 'Failed', 'Stopped']) {
      const event = processingEvent({ status });
      assert.deepEqual(routeSageMakerEvent(event), {
        kind: 'lookup-tags',
        job: 'processing',
        jobName: EVAL_JOB,
        resourceArn: `arn:aws:sagemaker:us-east-1:123456789012:processing-job/${EVAL_JOB}`,
      });
      assert.deepEqual(routeSageMakerEvent(event, { ...RUN, team: 'growth' }), {
        kind: 'signal',
        job: 'processing',
        workflowId: 'retrain-churn-propensity',
        runId: 'run-1',
        change: { eventId: '0a15f67d-aa23-0123-0123-01a23w89r01t', time: '2026-11-24T10:05:00Z', jobName: EVAL_JOB, status },
      });
    }
  });

  test('a processing job still running is ignored before any lookup', () => {
    for (const status of ['InProgress', 'Stopping']) {
      assert.deepEqual(routeSageMakerEvent(processingEvent({ status })), { kind: 'ignored', reason: `processing job ${EVAL_JOB} is ${status}, not ended` });
    }
  });

  test("foreign processing jobs are ignored: by name without a lookup, or by their tags", () => {
    const monitor = routeSageMakerEvent(processingEvent({ name: 'model-monitor-hourly-2026-11-24-10' }));
    assert.deepEqual(monitor, {
      kind: 'ignored',
      reason: "processing job model-monitor-hourly-2026-11-24-10 was not started by a retraining pipeline (its name is not one the pipeline derives)",
    });
    // A name of the pipeline's shape whose tags say otherwise (someone else's job, or tags removed).
    const untagged = routeSageMakerEvent(processingEvent(), { team: 'growth' });
    assert.deepEqual(untagged, { kind: 'ignored', reason: `processing job ${EVAL_JOB} was not started by a retraining pipeline (no ${RUN_TAGS.workflowId} tag)` });
    assert.equal(routeSageMakerEvent(processingEvent(), {}).kind, 'ignored');
  });

  test('tags in the event are used as they are; a run without a run-id tag is signalled by workflow id', () => {
    const route = routeSageMakerEvent(processingEvent({ detail: { Tags: { [RUN_TAGS.workflowId]: 'retrain-churn-propensity' } } }));
    assert.equal(route.kind, 'signal');
    assert.equal((route as { workflowId: string }).workflowId, 'retrain-churn-propensity');
    assert.equal('runId' in route, false);
    assert.equal(routeSageMakerEvent(processingEvent({ detail: { Tags: {} } })).kind, 'ignored', 'an empty Tags map is an answer, not a reason to look up');
  });

  test('a processing event is checked like a training one', () => {
    assert.throws(() => routeSageMakerEvent(processingEvent({ status: 'Exploded' })), /invalid SageMaker Processing Job State Change: detail\.ProcessingJobStatus/);
    assert.throws(() => routeSageMakerEvent(processingEvent({ detail: { ProcessingJobName: '' } })), /detail\.ProcessingJobName/);
    assert.throws(
      () => routeSageMakerEvent(processingEvent({ detail: { ProcessingJobArn: undefined }, resources: [] })),
      (err: Error) => err instanceof InvalidEventError && /neither it nor resources names the job/.test(err.message),
    );
    const fromResources = routeSageMakerEvent(processingEvent({ detail: { ProcessingJobArn: undefined } }));
    assert.equal((fromResources as { resourceArn: string }).resourceArn, `arn:aws:sagemaker:us-east-1:123456789012:processing-job/${EVAL_JOB}`);
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

describe('processing job events, whose tags the receiver reads from the local SageMaker', () => {
  let dataDir: string;
  let temporal: LocalTemporal;
  let s3: LocalS3;
  let sageMaker: LocalSageMaker;
  let sagemaker: SageMakerClient;
  let receiver: EventReceiver;

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'processing-events-test-'));
    await writeFile(path.join(dataDir, 'done.ts'), 'process.exit(0);\n');
    temporal = await startLocalTemporal({ dbFile: path.join(dataDir, 'temporal.db') });
    s3 = await startLocalS3({ directory: path.join(dataDir, 's3') });
    const port = await freePort();
    // The local SageMaker posts its events to the receiver, as EventBridge with an API destination would.
    sageMaker = await startLocalSageMaker({
      dataDir: path.join(dataDir, 'sagemaker'),
      s3: new S3Client({ region: 'us-east-1', endpoint: s3.endpoint, credentials: LOCAL_S3_CREDENTIALS }),
      images: { 'quick-job': { process: path.join(dataDir, 'done.ts') } },
      eventTargets: [`http://127.0.0.1:${port}/`],
      eventHeaders: { 'x-api-key': 'secret' },
    });
    sagemaker = new SageMakerClient({ region: 'us-east-1', endpoint: sageMaker.endpoint, credentials: LOCAL_S3_CREDENTIALS });
    receiver = await startEventReceiver({ client: temporal.environment.client, apiKey: 'secret', port, sagemaker });
  });

  after(async () => {
    await sageMaker?.close();
    await receiver?.close();
    await s3?.close();
    await temporal?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test("a tagged job's end reaches its run as processingJobStateChanged; its start does not", async () => {
    const handle = await temporal.environment.client.workflow.start(retrainingPipeline, {
      taskQueue: 'no-worker',
      workflowId: 'retrain-processing-events',
      args: [{ config: demoConfig() }],
    });
    await sagemaker.send(
      new CreateProcessingJobCommand({
        ProcessingJobName: 'churn-propensity-eval-0123456789ab',
        RoleArn: 'arn:aws:iam::000000000000:role/SageMakerRole',
        AppSpecification: { ImageUri: '000000000000.dkr.ecr.us-east-1.amazonaws.com/quick-job:latest' },
        ProcessingResources: { ClusterConfig: { InstanceCount: 1, InstanceType: 'ml.m5.large', VolumeSizeInGB: 10 } },
        Tags: [
          { Key: RUN_TAGS.workflowId, Value: handle.workflowId },
          { Key: RUN_TAGS.runId, Value: handle.firstExecutionRunId },
        ],
      }),
    );
    let signals: unknown[] = [];
    for (let i = 0; i < 150 && signals.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const history = await handle.fetchHistory();
      signals = (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'processingJobStateChanged');
    }
    await new Promise((r) => setTimeout(r, 300)); // room for a wrongly delivered extra event to show
    const history = await handle.fetchHistory();
    const delivered = (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName?.endsWith('JobStateChanged'));
    assert.equal(delivered.length, 1, 'one signal: the Completed event (InProgress is not delivered)');
    assert.equal(delivered[0]!.workflowExecutionSignaledEventAttributes!.signalName, 'processingJobStateChanged');
    await handle.terminate('test done');
  });

  test('a tag lookup that fails answers 503, so EventBridge retries', async () => {
    const unreachable = new SageMakerClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${await freePort()}`, credentials: LOCAL_S3_CREDENTIALS, maxAttempts: 1 });
    const result = await deliverSageMakerEvent(temporal.environment.client, processingEvent(), { sagemaker: unreachable });
    assert.equal(result.statusCode, 503);
    assert.match(result.body.error ?? '', new RegExp(`could not read the tags of processing job ${EVAL_JOB}`));
  });

  test('a processing job the pipeline did not start costs no lookup', async () => {
    const unreachable = new SageMakerClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${await freePort()}`, credentials: LOCAL_S3_CREDENTIALS, maxAttempts: 1 });
    const result = await deliverSageMakerEvent(temporal.environment.client, processingEvent({ name: 'nightly-feature-export' }), { sagemaker: unreachable });
    assert.equal(result.statusCode, 202);
    assert.match(result.body.ignored ?? '', /its name is not one the pipeline derives/);
  });
});
