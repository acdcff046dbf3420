// Alerts through the receiver, on the real dev server and the local SageMaker: an alarm starts one run
// (duplicates and a second alarm join it), an alert during the run is recorded on it, an alert after its
// data cut-off queues one follow-up run, and a monitoring execution's violations reach that run's drift
// stage; an event redelivered after the runs ended starts nothing. Unmapped, unsigned and forged requests
// are refused.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { WorkflowHandle } from '@temporalio/client';
import { customers, DEMO_BUCKET, demoConfig, labelledCsv } from '../local/demo-data';
import { LOCAL_S3_CREDENTIALS } from '../local/s3';
import { startLocalStack, startLocalWorker, type LocalStack } from '../local/stack';
import { freePort } from '../local/temporal';
import { signRequest } from '../receiver/authentication';
import { createEventHandler, createSageMakerEventHandler, deliverEvent, startEventReceiver, type EventReceiver } from '../receiver/sagemaker-events';
import { approveUpdate, retrainingPipeline, statusQuery, type RetrainingStatus } from '../workflows';

const FIXTURES = path.join(__dirname, 'fixtures', 'eventbridge');
const fixture = async (name: string) => JSON.parse(await readFile(path.join(FIXTURES, name), 'utf8'));
const TASK_QUEUE = 'alerts-test';
const MODEL = 'churn-propensity';
const VIOLATIONS_KEY = 'monitoring/churn-hourly/2026/11/24/10';

/** AWS's single-metric alarm sample, on Model Monitor's drift metric of the demo endpoint. */
async function driftAlarm(id: string, name: string) {
  const event = await fixture('cloudwatch-alarm-state-change.json');
  event.id = id;
  event.resources = [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}`];
  event.detail.alarmName = name;
  event.detail.configuration.metrics[0].metricStat.metric = {
    dimensions: { EndpointName: MODEL, ScheduleName: 'churn-hourly' },
    name: 'feature_baseline_drift_monthly_spend',
    namespace: 'aws/sagemaker/Endpoints/data-metrics',
  };
  return event;
}

/** The monitoring execution fixture, for the demo endpoint's schedule, its results in the local S3. */
async function monitoringExecution(id: string) {
  const event = await fixture('monitoring-execution-state-change.json');
  event.id = id;
  event.detail.Environment.sagemaker_endpoint_name = MODEL;
  event.detail.Environment.sagemaker_monitoring_schedule_name = 'churn-hourly';
  event.detail.MonitoringScheduleArn = 'arn:aws:sagemaker:us-east-1:123456789012:monitoring-schedule/churn-hourly';
  event.detail.ProcessingOutputConfig.Outputs[0].S3Output.S3Uri = `s3://${DEMO_BUCKET}/${VIOLATIONS_KEY}`;
  return event;
}

describe('alerts on the dev server and the local SageMaker', () => {
  let dataDir: string;
  let stack: LocalStack;
  let receiver: EventReceiver;
  let signed: EventReceiver;
  let worker: Awaited<ReturnType<typeof startLocalWorker>>;
  const logged: string[] = [];
  const config = { ...demoConfig(), approval: { mode: 'manual' as const, timeoutSeconds: 3600 } };
  const routing = {
    models: { [MODEL]: config },
    routes: { alarms: [{ namePrefix: 'churn-drift-', model: MODEL }], monitoringSchedules: { 'churn-hourly': MODEL } },
  };
  const post = (target: EventReceiver, body: unknown, headers: Record<string, string> = { 'x-api-key': 'local' }) =>
    fetch(target.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'alerts-'));
    stack = await startLocalStack({ dataDir, buckets: [DEMO_BUCKET], applyToProcess: true });
    const client = stack.temporal.environment.client;
    receiver = await startEventReceiver({ client, apiKey: 'local', alerts: { routing, taskQueue: TASK_QUEUE }, log: (line) => logged.push(line) });
    signed = await startEventReceiver({ client, authentication: { kind: 'hmac', secret: 'signing-key', maxSkewSeconds: 60 }, alerts: { routing, taskQueue: TASK_QUEUE } });
    worker = await startLocalWorker(stack, { taskQueue: TASK_QUEUE, jobPolling: { firstMs: 200, maxMs: 1000 } });
    const s3 = new S3Client({});
    await s3.send(new PutObjectCommand({ Bucket: DEMO_BUCKET, Key: 'labels/initial.csv', Body: labelledCsv(customers('before', 3000, 1)) }));
    const violations = await readFile(path.join(__dirname, 'fixtures', 'model-monitor', 'sagemaker-python-sdk', 'constraint_violations.json'));
    await s3.send(new PutObjectCommand({ Bucket: DEMO_BUCKET, Key: `${VIOLATIONS_KEY}/constraint_violations.json`, Body: violations }));
  });

  after(async () => {
    await worker?.stop();
    await receiver?.close();
    await signed?.close();
    await stack?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function statusWhen(handle: WorkflowHandle<typeof retrainingPipeline>, ready: (s: RetrainingStatus) => boolean, what: string): Promise<RetrainingStatus> {
    let last: RetrainingStatus | null = null;
    for (let i = 0; i < 1800; i++) {
      last = await handle.query(statusQuery).catch(() => null);
      if (last && ready(last)) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`${what} did not happen within three minutes; last status: ${JSON.stringify(last && { stage: last.stage, details: last.details })}`);
  }

  async function runsOfModel(): Promise<{ runId: string; status: string }[]> {
    const runs: { runId: string; status: string }[] = [];
    for await (const run of stack.temporal.environment.client.workflow.list({ query: `WorkflowId = 'retrain-${MODEL}'` })) runs.push({ runId: run.runId, status: run.status.name });
    return runs;
  }

  test('unmapped, unsigned, forged and stale requests are refused with a clear 4xx, and unmapped alerts are logged', async () => {
    const cpu = await fixture('cloudwatch-alarm-state-change.json');
    const unmapped = await post(receiver, cpu);
    assert.equal(unmapped.status, 422);
    const body = (await unmapped.json()) as { error: string; alert: { source: string } };
    assert.match(body.error, /^alarm ServerCpuTooHigh \(arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh\) is not mapped to a model/);
    assert.equal(body.alert.source, 'ServerCpuTooHigh');
    assert.ok(logged.some((line) => line.startsWith('event 422: alarm ServerCpuTooHigh')), logged.join('\n'));
    assert.equal((await post(receiver, cpu, {})).status, 401, 'no API key');

    const raw = JSON.stringify({ ...cpu, detail: { ...cpu.detail, state: { ...cpu.detail.state, value: 'OK' } } });
    const now = String(Math.floor(Date.now() / 1000));
    const ok = await post(signed, raw, { 'x-retraining-signature': signRequest('signing-key', now, raw), 'x-retraining-timestamp': now });
    assert.equal(ok.status, 202, 'a signed alarm going to OK is acknowledged');
    assert.match(((await ok.json()) as { ignored: string }).ignored, /only a transition into ALARM asks for a retraining/);
    const forged = await post(signed, raw, { 'x-retraining-signature': signRequest('guessed-key', now, raw), 'x-retraining-timestamp': now });
    assert.equal(forged.status, 401);
    assert.match(((await forged.json()) as { error: string }).error, /^forged/);
    const old = String(Number(now) - 600);
    const stale = await post(signed, raw, { 'x-retraining-signature': signRequest('signing-key', old, raw), 'x-retraining-timestamp': old });
    assert.equal(stale.status, 401);
    assert.match(((await stale.json()) as { error: string }).error, /^stale x-retraining-timestamp/);
    assert.equal((await post(signed, raw, {})).status, 401, 'unsigned');
    const notJson = await post(receiver, '{"detail-type": ');
    assert.equal(notJson.status, 400);
    const noName = await post(receiver, { ...cpu, detail: { ...cpu.detail, alarmName: undefined } });
    assert.equal(noName.status, 400);
    assert.match(((await noName.json()) as { error: string }).error, /detail\.alarmName/);
    assert.deepEqual(await runsOfModel(), [], 'nothing refused started a run');
  });

  test('a monitoring execution whose event lacks its result is described first: 503 when SageMaker cannot be reached, 202 when the job is gone', async () => {
    const event = await monitoringExecution('execution-without-result');
    delete event.detail.ExitMessage;
    delete event.detail.ProcessingOutputConfig;
    const client = stack.temporal.environment.client;
    const unreachable = new SageMakerClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${await freePort()}`, credentials: LOCAL_S3_CREDENTIALS, maxAttempts: 1 });
    const down = await deliverEvent(client, event, { alerts: { routing, taskQueue: TASK_QUEUE }, sagemaker: unreachable });
    assert.equal(down.statusCode, 503);
    assert.match(down.body.error ?? '', /^could not describe monitoring execution model-monitoring-201912011600-3e1d9f45/);
    const gone = await deliverEvent(client, event, { alerts: { routing, taskQueue: TASK_QUEUE }, sagemaker: new SageMakerClient({}) });
    assert.deepEqual(gone, { statusCode: 202, body: { ignored: 'monitoring execution model-monitoring-201912011600-3e1d9f45 no longer exists, so nothing says whether it found violations' } });
  });

  test('the Lambda handler takes alerts too, and throws naming an unmapped one', async () => {
    const handler = createEventHandler(stack.temporal.environment.client, { alerts: { routing, taskQueue: TASK_QUEUE } });
    assert.equal(createSageMakerEventHandler, createEventHandler, 'the earlier name still works');
    const cpu = await fixture('cloudwatch-alarm-state-change.json');
    await assert.rejects(handler(cpu), /^Error: alarm ServerCpuTooHigh .* is not mapped to a model/);
    const clean = await monitoringExecution('execution-clean');
    clean.detail.ExitMessage = 'Completed: Job completed successfully with no violations.';
    assert.match((await handler(clean)).ignored ?? '', /completed without violations/);
    await assert.rejects(createEventHandler(stack.temporal.environment.client)(await driftAlarm('x', 'churn-drift-x')), /this receiver has no alert routing/);
    assert.deepEqual(await runsOfModel(), []);
  });

  test('one run for duplicate and simultaneous alarms; an alert during it is recorded; one after its cut-off queues a follow-up that gets the violations', async () => {
    const first = await driftAlarm('alarm-event-1', 'churn-drift-monthly_spend');
    const second = await driftAlarm('alarm-event-2', 'churn-drift-discount_rate');
    // The same event twice (EventBridge may deliver it again) and another alarm, all at once.
    const answers = await Promise.all([post(receiver, first), post(receiver, first), post(receiver, second)]);
    for (const answer of answers) assert.equal(answer.status, 200, await answer.text());
    const runs = await runsOfModel();
    assert.equal(runs.length, 1, `one run: ${JSON.stringify(runs)}`);

    const handle = stack.temporal.environment.client.workflow.getHandle<typeof retrainingPipeline>(`retrain-${MODEL}`, runs[0]!.runId);
    const description = await handle.describe();
    assert.equal(description.typedSearchAttributes.getAll().find((p) => p.key.name === 'RetrainingTrigger')?.value, 'alert');
    const started = await handle.fetchHistory();
    const input = started.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data;
    assert.match(Buffer.from(input!).toString(), /"trigger":"alert","reason":"alarm churn-drift-/);

    // Both alarms are on the run once each, whatever order they came in.
    const waiting = await statusWhen(handle, (s) => s.stage === 'awaiting-approval', 'awaiting approval');
    assert.deepEqual(waiting.alerts.map((a) => a.eventId).sort(), ['alarm-event-1', 'alarm-event-2']);
    assert.ok(waiting.dataCutOff, 'the drift stage fixed the data cut-off');

    // During the run, after its cut-off: recorded on it, no second run.
    const execution = await monitoringExecution('execution-event-1');
    const during = await post(receiver, execution);
    assert.equal(during.status, 200, await during.text());
    assert.equal((await post(receiver, execution)).status, 200, 'a redelivery is accepted too');
    // SageMaker may send one state change as several events, each with its own id.
    assert.equal((await post(receiver, { ...execution, id: 'execution-event-1-copy' })).status, 200);
    const recorded = await statusWhen(handle, (s) => s.alerts.some((a) => a.eventId === 'execution-event-1'), 'the execution recorded');
    const late = recorded.alerts.filter((a) => a.eventId === 'execution-event-1');
    assert.equal(late.length, 1, 'recorded once');
    assert.ok(!recorded.alerts.some((a) => a.eventId === 'execution-event-1-copy'), 'the copy with another id is the same execution, recorded once');
    assert.equal(late[0]!.afterDataCutOff, true);
    assert.equal(late[0]!.violationsS3Uri, `s3://${DEMO_BUCKET}/${VIOLATIONS_KEY}/constraint_violations.json`);
    assert.equal((await runsOfModel()).length, 1, 'still one run');
    // The Web UI shows the run's current details through the built-in metadata query.
    const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    assert.match(metadata.currentDetails ?? '', /Alerts: \d \(latest: monitoring schedule churn-hourly on endpoint churn-propensity: CompletedWithViolations/);
    assert.match(metadata.currentDetails ?? '', /after the data cut-off, so one follow-up run starts when this one ends/);

    // The run ends promoted and continues as new into one follow-up; result() follows the chain.
    await handle.executeUpdate(approveUpdate, { args: [{ approver: 'ana@example.com', reason: 'first model looks right' }] });
    const followUpOutcome = await handle.result();
    const history = await handle.fetchHistory();
    const last = history.events?.[history.events.length - 1];
    const continued = last?.workflowExecutionContinuedAsNewEventAttributes;
    assert.ok(continued, 'the first run continued as new');
    const followUpInput = JSON.parse(Buffer.from(continued.input!.payloads![0]!.data!).toString());
    assert.equal(followUpInput.trigger, 'alert');
    const lateCount = recorded.alerts.filter((a) => a.afterDataCutOff).length;
    assert.equal(followUpInput.reason, `follow-up: ${lateCount} alert${lateCount === 1 ? '' : 's'} after the data cut-off`);
    assert.equal(followUpInput.previousRun.decision, 'promoted', "the first run's outcome travels with the follow-up");
    assert.deepEqual(
      followUpInput.alerts.filter((a: { kind: string }) => a.kind === 'monitoring-execution').map((a: { eventId: string }) => a.eventId),
      ['execution-event-1'],
      'the execution, its redelivery and its copy under another id: one alert',
    );
    assert.equal(followUpInput.modelMonitorViolationsS3Uri, `s3://${DEMO_BUCKET}/${VIOLATIONS_KEY}/constraint_violations.json`);

    const followUp = stack.temporal.environment.client.workflow.getHandle<typeof retrainingPipeline>(`retrain-${MODEL}`, continued.newExecutionRunId!);
    const followUpHistory = await followUp.fetchHistory();
    const driftCall = followUpHistory.events?.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'detectDrift');
    assert.ok(driftCall, 'the follow-up had a champion, so its drift stage ran');
    const driftInput = JSON.parse(Buffer.from(driftCall.activityTaskScheduledEventAttributes!.input!.payloads![0]!.data!).toString());
    assert.equal(driftInput.modelMonitorViolationsS3Uri, `s3://${DEMO_BUCKET}/${VIOLATIONS_KEY}/constraint_violations.json`);
    assert.ok(followUpOutcome.drift.modelMonitor, `the drift stage read the execution's violations: ${JSON.stringify(followUpOutcome.drift)}`);
    assert.ok(followUpOutcome.alerts.some((a) => a.eventId === 'execution-event-1' && a.carriedFrom === runs[0]!.runId && !a.afterDataCutOff));
    const followUpStatus = await followUp.query(statusQuery);
    assert.equal(followUpStatus.previousRun?.decision, 'promoted');
    assert.equal(followUpStatus.previousRun?.runId, runs[0]!.runId);
    const chain = await runsOfModel();
    assert.equal(chain.length, 2, `the run and its one follow-up: ${JSON.stringify(chain)}`);

    // Both runs have ended. EventBridge redelivering an event now finds the run that recorded it and
    // starts nothing: the first alarm (recorded by the first run) and the execution (by both).
    const ids = (await followUp.describe()).typedSearchAttributes.getAll().find((p) => p.key.name === 'RetrainingAlertEventIds')?.value as string[] | undefined;
    assert.ok(ids?.includes('execution-event-1'), `the follow-up lists the alert it carried: ${JSON.stringify(ids)}`);
    for (const [event, id] of [[first, 'alarm-event-1'], [execution, 'execution-event-1']] as const) {
      const again = await post(receiver, event);
      const body = (await again.json()) as { delivered?: string };
      assert.equal(again.status, 200, JSON.stringify(body));
      assert.match(body.delivered ?? '', new RegExp(`event ${id}\\) was already recorded by retrain-${MODEL} run [0-9a-f-]+ \\((continued as new|completed|running)\\); nothing new started`));
    }
    assert.equal((await runsOfModel()).length, 2, 'a redelivery after the runs ended started no third run');
  });
});
