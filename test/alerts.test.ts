// Alerts, pure: AWS's published events read as alerts (or acknowledged), the routing file mapping them to
// models, and the receiver's authentication. No network; the receiver on a real server is in
// alerts-receiver.test.ts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { authenticateRequest, signRequest, type ReceiverAuthentication } from '../receiver/authentication';
import { parseAlertRouting, routeAlert, type AlertRoutingInput } from '../domain/alert-routing';
import { InvalidAlertError, readAlert, type Alert } from '../domain/alerts';
import { InvalidConfigError } from '../domain/config';
import { routeSageMakerEvent } from '../domain/sagemaker-events';
import { demoConfig } from '../local/demo-data';

const fixture = (name: string) => JSON.parse(readFileSync(path.join(__dirname, 'fixtures', 'eventbridge', name), 'utf8'));
const ALARM = 'cloudwatch-alarm-state-change.json';
const METRIC_MATH_ALARM = 'cloudwatch-alarm-state-change-metric-math.json';
const EXECUTION = 'monitoring-execution-state-change.json';

function alertOf(body: unknown): Alert {
  const reading = readAlert(body);
  assert.equal(reading.kind, 'alert', JSON.stringify(reading));
  return (reading as { alert: Alert }).alert;
}

/** A Model Monitor drift alarm: AWS's single-metric sample with its metric swapped for Model Monitor's. */
function driftAlarm(over: { name?: string; dimensions?: Record<string, string> } = {}) {
  const event = fixture(ALARM);
  const name = over.name ?? 'churn-drift-monthly_spend';
  event.resources = [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}`];
  event.detail.alarmName = name;
  event.detail.configuration.metrics[0].metricStat.metric = {
    dimensions: over.dimensions ?? { EndpointName: 'churn-propensity', ScheduleName: 'churn-hourly' },
    name: 'feature_baseline_drift_monthly_spend',
    namespace: 'aws/sagemaker/Endpoints/data-metrics',
  };
  return event;
}

describe('alerts read from AWS published events', () => {
  test("CloudWatch's single-metric sample going OK → ALARM is an alert naming the alarm, its ARN and reason", () => {
    const alert = alertOf(fixture(ALARM));
    assert.deepEqual(alert.record, {
      eventId: 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
      key: 'alarm arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh 2019-10-02T17:04:40.989+0000',
      time: '2019-10-02T17:04:40Z',
      kind: 'alarm',
      source: 'ServerCpuTooHigh',
      summary:
        'alarm ServerCpuTooHigh OK → ALARM: Threshold Crossed: 1 out of the last 1 datapoints [99.50160229693434 (02/10/19 16:59:00)] was greater than the threshold (50.0) (minimum 1 datapoint for OK -> ALARM transition).',
    });
    assert.deepEqual(alert.subject, { alarmName: 'ServerCpuTooHigh', alarmArn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh', metrics: ['AWS/EC2/CPUUtilization'] });
    assert.match(alert.details.join('\n'), /\*\*Alarm\*\* ServerCpuTooHigh \(arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh\)/);
    assert.match(alert.details.join('\n'), /\*\*State change\*\* OK → ALARM at 2019-10-02T17:04:40.989\+0000/);
  });

  test("the metric math sample (INSUFFICIENT_DATA → ALARM, a previousState without reasonData) is an alert too", () => {
    const alert = alertOf(fixture(METRIC_MATH_ALARM));
    assert.equal(alert.record.source, 'TotalNetworkTrafficTooHigh');
    assert.match(alert.record.summary, /^alarm TotalNetworkTrafficTooHigh INSUFFICIENT_DATA → ALARM: Threshold Crossed/);
    assert.deepEqual(alert.subject.metrics, ['AWS/EC2/NetworkIn', 'AWS/EC2/NetworkOut']);
  });

  test('transitions to OK or INSUFFICIENT_DATA are acknowledged and ask for nothing', () => {
    for (const value of ['OK', 'INSUFFICIENT_DATA']) {
      const event = fixture(ALARM);
      event.detail.previousState.value = 'ALARM';
      event.detail.state.value = value;
      assert.deepEqual(readAlert(event), { kind: 'acknowledged', reason: `alarm ServerCpuTooHigh went from ALARM to ${value}: only a transition into ALARM asks for a retraining` });
    }
  });

  test("an alarm on Model Monitor's drift metric carries its endpoint and schedule from the dimensions", () => {
    const alert = alertOf(driftAlarm());
    assert.equal(alert.subject.endpoint, 'churn-propensity');
    assert.equal(alert.subject.monitoringSchedule, 'churn-hourly');
    assert.match(alert.details.join('\n'), /\*\*Metric\*\* aws\/sagemaker\/Endpoints\/data-metrics feature_baseline_drift_monthly_spend \(EndpointName=churn-propensity, ScheduleName=churn-hourly\)/);
  });

  test('a monitoring execution that Completed with violations in its ExitMessage is an alert with its constraint_violations.json', () => {
    const alert = alertOf(fixture(EXECUTION));
    assert.deepEqual(alert.record, {
      eventId: '6f1e2a7c-3b4d-4e5f-8a9b-0c1d2e3f4a5b',
      key: 'monitoring-execution arn:aws:sagemaker:us-west-2:111122223333:processing-job/model-monitoring-201912011600-3e1d9f45',
      time: '2019-12-01T16:31:07Z',
      kind: 'monitoring-execution',
      source: 'schedule-name',
      summary: 'monitoring schedule schedule-name on endpoint endpoint-name: CompletedWithViolations: Job completed successfully with 2 violations.',
      violationsS3Uri: 's3://output/s3/uri/endpoint-name/schedule-name/2019/12/01/16/constraint_violations.json',
    });
    assert.deepEqual(alert.subject, { monitoringSchedule: 'schedule-name', endpoint: 'endpoint-name' });
  });

  test('a monitoring execution without violations, failed or still running is acknowledged', () => {
    const clean = fixture(EXECUTION);
    clean.detail.ExitMessage = 'Completed: Job completed successfully with no violations.';
    assert.match((readAlert(clean) as { reason: string }).reason, /completed without violations \(ExitMessage: Completed: Job completed/);
    const failed = fixture(EXECUTION);
    failed.detail.ProcessingJobStatus = 'Failed';
    failed.detail.FailureReason = 'ClientError: no data captured';
    assert.match((readAlert(failed) as { reason: string }).reason, /Failed \(ClientError: no data captured\): a failed execution says nothing about drift/);
    const running = fixture(EXECUTION);
    running.detail.ProcessingJobStatus = 'InProgress';
    assert.equal(readAlert(running).kind, 'acknowledged');
  });

  test('a monitoring execution whose event lacks its ExitMessage is described first, then read', () => {
    const event = fixture(EXECUTION);
    delete event.detail.ExitMessage;
    delete event.detail.ProcessingOutputConfig;
    assert.deepEqual(readAlert(event), { kind: 'lookup-execution', jobName: 'model-monitoring-201912011600-3e1d9f45' });
    const described = readAlert(event, {
      ExitMessage: 'CompletedWithViolations: Job completed successfully with 3 violations.',
      ProcessingOutputConfig: { Outputs: [{ S3Output: { S3Uri: 's3://b/monitoring/run-7/', LocalPath: '/opt/ml/processing/resultdata' } }] },
    });
    assert.equal((described as { alert: Alert }).alert.record.violationsS3Uri, 's3://b/monitoring/run-7/constraint_violations.json');
  });

  test("AWS's processing job sample (a Failed job of no schedule) is not an alert: the job routing ignores it", () => {
    const event = fixture('processing-job-state-change.json');
    assert.deepEqual(readAlert(event), { kind: 'not-an-alert' });
    assert.equal(routeSageMakerEvent(event).kind, 'ignored');
  });

  test("AWS's training job sample is not an alert; it goes to the job routing as before", () => {
    const event = fixture('training-job-state-change.json');
    assert.deepEqual(readAlert(event), { kind: 'not-an-alert' });
    assert.deepEqual(routeSageMakerEvent(event), {
      kind: 'ignored',
      reason: 'training job 89c96cc8-dded-4739-afcc-6f1dc936701d was not started by a retraining pipeline (no retraining:workflow-id tag)',
    });
  });

  test('a malformed alarm or monitoring event is refused naming the field', () => {
    const noName = fixture(ALARM);
    delete noName.detail.alarmName;
    assert.throws(() => readAlert(noName), (err: Error) => err instanceof InvalidAlertError && /invalid CloudWatch Alarm State Change: detail\.alarmName: /.test(err.message));
    const badState = fixture(ALARM);
    badState.detail.state.value = 'RED';
    assert.throws(() => readAlert(badState), /detail\.state\.value: /);
    const badStatus = fixture(EXECUTION);
    badStatus.detail.ProcessingJobStatus = 'Exploded';
    assert.throws(() => readAlert(badStatus), /a monitoring execution\): detail\.ProcessingJobStatus: /);
  });
});

const ROUTING: AlertRoutingInput = {
  models: { 'churn-propensity': demoConfig() },
  routes: {
    alarms: [
      { name: 'ServerCpuTooHigh', model: 'churn-propensity' },
      { namePrefix: 'churn-', model: 'churn-propensity' },
    ],
    monitoringSchedules: { 'schedule-name': 'churn-propensity' },
  },
};

describe('the routing file', () => {
  const routing = parseAlertRouting(ROUTING);

  test('alarms route by name, ARN or longest prefix; executions by schedule; a model owns its endpoint', () => {
    const byName = routeAlert(routing, alertOf(fixture(ALARM)));
    assert.equal(byName.mapped && byName.via, 'alarm name ServerCpuTooHigh');
    assert.equal(byName.mapped && byName.model.input.model, 'churn-propensity');
    const byPrefix = routeAlert(routing, alertOf(driftAlarm()));
    assert.equal(byPrefix.mapped && byPrefix.via, 'alarm name prefix churn-');
    const arnRouting = parseAlertRouting({ ...ROUTING, routes: { alarms: [{ arn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh', model: 'churn-propensity' }] } });
    const byArn = routeAlert(arnRouting, alertOf(fixture(ALARM)));
    assert.equal(byArn.mapped && byArn.via, 'alarm ARN arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh');
    const bySchedule = routeAlert(routing, alertOf(fixture(EXECUTION)));
    assert.equal(bySchedule.mapped && bySchedule.via, 'monitoring schedule schedule-name');
    // An unlisted drift alarm on the model's endpoint routes by its EndpointName dimension.
    const byEndpoint = routeAlert(parseAlertRouting({ models: ROUTING.models }), alertOf(driftAlarm({ name: 'drift-of-spend' })));
    assert.equal(byEndpoint.mapped && byEndpoint.via, 'endpoint churn-propensity');
  });

  test('an unmapped alarm or schedule gets an answer that says what was looked for', () => {
    const bare = parseAlertRouting({ models: ROUTING.models });
    const cpu = routeAlert(bare, alertOf(fixture(ALARM)));
    assert.equal(cpu.mapped, false);
    assert.match(
      (cpu as { error: string }).error,
      /^alarm ServerCpuTooHigh \(arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh\) is not mapped to a model: no routes\.alarms entry matches its name or ARN \(its metrics AWS\/EC2\/CPUUtilization are not Model Monitor's feature_baseline_drift_\*/,
    );
    const otherEndpoint = routeAlert(bare, alertOf(driftAlarm({ name: 'x', dimensions: { EndpointName: 'fraud', ScheduleName: 'fraud-hourly' } })));
    assert.match((otherEndpoint as { error: string }).error, /neither its monitoring schedule fraud-hourly nor its endpoint fraud is routed/);
    const schedule = routeAlert(bare, alertOf(fixture(EXECUTION)));
    assert.match((schedule as { error: string }).error, /^monitoring schedule schedule-name is not mapped to a model: no routes\.monitoringSchedules entry names it, and its endpoint endpoint-name is neither/);
  });

  test('a bad routing file fails naming every bad field by path', () => {
    const bad = {
      models: { churn: demoConfig(), fraud: { ...demoConfig(), model: 'fraud', roleArn: 'nope' } },
      routes: { alarms: [{ name: 'a', namePrefix: 'b', model: 'churn' }, { name: 'c', model: 'ghost' }], monitoringSchedules: { s: 'ghost' } },
    };
    assert.throws(
      () => parseAlertRouting(bad),
      (err: Error) => {
        assert.ok(err instanceof InvalidConfigError);
        assert.match(err.message, /routes\.alarms\[0\]: give exactly one of name, arn or namePrefix/);
        return true;
      },
    );
    const secondPass = { ...bad, routes: { alarms: [{ name: 'c', model: 'ghost' }], monitoringSchedules: { s: 'ghost' } } };
    assert.throws(
      () => parseAlertRouting(secondPass),
      (err: Error) => {
        const paths = (err as InvalidConfigError).issues.map((i) => i.path);
        assert.ok(paths.includes('models.churn.model'), paths.join(', '));
        assert.ok(paths.some((p) => p.startsWith('models.fraud.roleArn')), paths.join(', '));
        assert.ok(paths.includes('routes.alarms[0].model'));
        assert.ok(paths.includes('routes.monitoringSchedules.s'));
        assert.match(err.message, /no model "ghost" in models \(it has: churn, fraud\)/);
        return true;
      },
    );
  });
});

describe('authentication', () => {
  const body = Buffer.from(JSON.stringify(fixture(ALARM)));
  const now = Date.parse('2026-11-24T12:00:00Z');
  const ts = String(now / 1000);
  const hmac: ReceiverAuthentication = { kind: 'hmac', secret: 's3cret' };

  test('an API key must be present and equal', () => {
    const auth: ReceiverAuthentication = { kind: 'api-key', apiKey: 'k-123' };
    assert.deepEqual(authenticateRequest(auth, { 'x-api-key': 'k-123' }, body), { ok: true });
    assert.deepEqual(authenticateRequest(auth, {}, body), { ok: false, statusCode: 401, error: 'unauthenticated: no x-api-key header' });
    assert.deepEqual(authenticateRequest(auth, { 'x-api-key': 'k-124' }, body), { ok: false, statusCode: 401, error: 'wrong x-api-key' });
    assert.deepEqual(authenticateRequest(auth, { 'x-api-key': 'k-1234' }, body), { ok: false, statusCode: 401, error: 'wrong x-api-key' });
  });

  test('an HMAC signature over timestamp and raw body is accepted, with or without its sha256= prefix', () => {
    const signature = signRequest('s3cret', ts, body);
    assert.match(signature, /^sha256=[0-9a-f]{64}$/);
    assert.deepEqual(authenticateRequest(hmac, { 'x-retraining-signature': signature, 'x-retraining-timestamp': ts }, body, now), { ok: true });
    assert.deepEqual(authenticateRequest(hmac, { 'x-retraining-signature': signature.slice(7), 'x-retraining-timestamp': ts }, body, now), { ok: true });
  });

  test('unsigned, forged, stale and malformed requests are refused, each saying why', () => {
    const signature = signRequest('s3cret', ts, body);
    const check = (headers: Record<string, string>, raw = body, at = now) => authenticateRequest(hmac, headers, raw, at);
    assert.deepEqual(check({ 'x-retraining-timestamp': ts }), { ok: false, statusCode: 401, error: 'unsigned: no x-retraining-signature header' });
    assert.match((check({ 'x-retraining-signature': signature }) as { error: string }).error, /^unsigned: no x-retraining-timestamp header/);
    const forged = { ok: false, statusCode: 401, error: 'forged: x-retraining-signature does not match the body and timestamp' };
    assert.deepEqual(check({ 'x-retraining-signature': signRequest('other-key', ts, body), 'x-retraining-timestamp': ts }), forged, 'the wrong key');
    assert.deepEqual(check({ 'x-retraining-signature': signature, 'x-retraining-timestamp': ts }, Buffer.concat([body, Buffer.from(' ')])), forged, 'a changed body');
    assert.deepEqual(check({ 'x-retraining-signature': signature, 'x-retraining-timestamp': String(Number(ts) + 1) }, body, now + 1000), forged, 'a moved timestamp');
    assert.deepEqual(check({ 'x-retraining-signature': signature, 'x-retraining-timestamp': ts }, body, now + 301_000), {
      ok: false,
      statusCode: 401,
      error: "stale x-retraining-timestamp: 301 s from the receiver's clock, more than the 300 s allowed",
    });
    assert.deepEqual(check({ 'x-retraining-signature': 'sha256=xyz', 'x-retraining-timestamp': ts }), { ok: false, statusCode: 400, error: 'malformed x-retraining-signature: expected sha256=<64 hex digits>' });
    assert.deepEqual(check({ 'x-retraining-signature': signature, 'x-retraining-timestamp': '2026-11-24T12:00:00Z' }), {
      ok: false,
      statusCode: 400,
      error: 'malformed x-retraining-timestamp: "2026-11-24T12:00:00Z" is not Unix seconds',
    });
  });
});
