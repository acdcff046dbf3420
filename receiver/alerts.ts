// Alerts into runs: an alarm into ALARM, or a monitoring execution with violations, is mapped to its model
// and delivered with signal-with-start to the model's workflow id, so it starts a run or is recorded on the
// one running (at most one retraining of a model at a time). 2xx only once the signal is durable. An event
// a run already recorded (RetrainingAlertEventIds) is answered 200 without starting another run.
import { DescribeProcessingJobCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { Client } from '@temporalio/client';
import { isNotFound } from '../activities/sagemaker-jobs';
import { retrainingStartOptions } from '../client/runs';
import { parseAlertRouting, routeAlert, type AlertRouting, type AlertRoutingInput } from '../domain/alert-routing';
import { InvalidAlertError, readAlert, type AlertReading, type DescribedExecution } from '../domain/alerts';
import { alertReceived, retrainingPipeline } from '../workflows';
import { RetrainingAlertEventIds } from '../workflows/search-attributes';
import type { DeliveryResult } from './sagemaker-events';

export interface AlertOptions {
  /** The routing file's content (validated at start) or an already parsed one. */
  routing: AlertRoutingInput | AlertRouting;
  /** Where alert-started runs run. Default `sagemaker-retraining`, the plugin's default queue. */
  taskQueue?: string;
}

/** Alert options made ready: the routing parsed once. */
export interface AlertDelivery {
  routing: AlertRouting;
  taskQueue: string;
}

export function alertDelivery(opts: AlertOptions): AlertDelivery {
  const routing = isParsed(opts.routing) ? opts.routing : parseAlertRouting(opts.routing);
  return { routing, taskQueue: opts.taskQueue ?? 'sagemaker-retraining' };
}

function isParsed(routing: AlertOptions['routing']): routing is AlertRouting {
  return 'monitoringSchedules' in routing && !('routes' in routing);
}

let defaultSageMaker: SageMakerClient | undefined;

/**
 * Delivers an event if it is an alert (or an alarm or monitoring event that asks for nothing); answers
 * undefined for any other event, which the SageMaker job routing then takes.
 */
export async function deliverAlertEvent(client: Client, event: unknown, opts: { alerts?: AlertDelivery; sagemaker?: SageMakerClient }): Promise<DeliveryResult | undefined> {
  let reading: AlertReading;
  try {
    reading = readAlert(event);
    if (reading.kind === 'lookup-execution') {
      const jobName = reading.jobName;
      let described: DescribedExecution | null;
      try {
        described = await describeExecution(opts.sagemaker ?? (defaultSageMaker ??= new SageMakerClient({})), jobName);
      } catch (err) {
        return { statusCode: 503, body: { error: `could not describe monitoring execution ${jobName}: ${(err as Error).message}` } };
      }
      if (!described) return { statusCode: 202, body: { ignored: `monitoring execution ${jobName} no longer exists, so nothing says whether it found violations` } };
      reading = readAlert(event, described);
    }
  } catch (err) {
    if (err instanceof InvalidAlertError) return { statusCode: 400, body: { error: err.message } };
    throw err;
  }
  if (reading.kind === 'not-an-alert') return undefined;
  if (reading.kind === 'acknowledged') return { statusCode: 202, body: { ignored: reading.reason } };
  if (reading.kind === 'lookup-execution') throw new Error(`monitoring execution ${reading.jobName} still asks for a lookup after one`);

  const { record, details } = reading.alert;
  const summary = { eventId: record.eventId, kind: record.kind, source: record.source };
  if (!opts.alerts) {
    return { statusCode: 422, body: { error: `${record.kind} ${record.source} is an alert, but this receiver has no alert routing (alerts.routing), so no model is mapped`, alert: summary } };
  }
  const route = routeAlert(opts.alerts.routing, reading.alert);
  if (!route.mapped) return { statusCode: 422, body: { error: route.error, alert: summary } };

  const model = route.model.input;
  const start = retrainingStartOptions(
    model,
    { trigger: 'alert', reason: `${record.kind === 'alarm' ? 'alarm' : 'monitoring schedule'} ${record.source}`, details: [...details, `**Routed by** ${route.via}`] },
    record.violationsS3Uri ? { modelMonitorViolationsS3Uri: record.violationsS3Uri } : {},
  );
  const earlier = await recordingRun(client, start.workflowId, record.eventId);
  if (earlier.found) {
    return {
      statusCode: 200,
      body: { delivered: `${record.kind} ${record.source} (event ${record.eventId}) was already recorded by ${start.workflowId} run ${earlier.found.runId} (${earlier.found.status}); nothing new started`, alert: { ...summary, model: model.model } },
    };
  }
  try {
    const handle = await client.workflow.signalWithStart(retrainingPipeline, { ...start, taskQueue: opts.alerts.taskQueue, signal: alertReceived, signalArgs: [record] });
    return {
      statusCode: 200,
      body: {
        delivered: `${record.kind} ${record.source} (event ${record.eventId}) → ${handle.workflowId} run ${handle.signaledRunId}`,
        alert: { ...summary, model: model.model },
        ...(earlier.unchecked ? { unchecked: earlier.unchecked } : {}),
      },
    };
  } catch (err) {
    return { statusCode: 503, body: { error: `could not deliver ${record.kind} ${record.source} to ${start.workflowId}: ${(err as Error).message}`, alert: { ...summary, model: model.model } } };
  }
}

/** Event ids the lookup can quote safely in a visibility query; EventBridge's are UUIDs. */
const QUOTABLE_EVENT_ID = /^[A-Za-z0-9._:-]{1,200}$/;

/**
 * The run of this workflow id that recorded the event, if any: a redelivery after that run ended would
 * otherwise start a new one. When the lookup cannot be made (an event id it cannot quote, or a namespace
 * without the search attribute) the alert is delivered anyway, since a run deduplicates what it is sent and
 * an accepted alert is never dropped; `unchecked` says why.
 */
async function recordingRun(client: Client, workflowId: string, eventId: string): Promise<{ found?: { runId: string; status: string }; unchecked?: string }> {
  if (!QUOTABLE_EVENT_ID.test(eventId)) return { unchecked: 'the event id has characters a visibility query cannot take, so no earlier run was looked up' };
  try {
    const query = `WorkflowId = '${workflowId.replace(/'/g, "\\'")}' AND ${RetrainingAlertEventIds.name} = '${eventId}'`;
    for await (const run of client.workflow.list({ query, pageSize: 1 })) return { found: { runId: run.runId, status: run.status.name.toLowerCase().replace(/_/g, ' ') } };
    return {};
  } catch (err) {
    return { unchecked: `could not look up earlier runs (${(err as Error).message}); delivered, and a running run records an event once` };
  }
}

/** DescribeProcessingJob's fields that say whether a monitoring execution found violations; null when it is gone. */
async function describeExecution(sagemaker: SageMakerClient, jobName: string): Promise<DescribedExecution | null> {
  try {
    const job = await sagemaker.send(new DescribeProcessingJobCommand({ ProcessingJobName: jobName }));
    return {
      ProcessingJobStatus: job.ProcessingJobStatus,
      ExitMessage: job.ExitMessage,
      FailureReason: job.FailureReason,
      MonitoringScheduleArn: job.MonitoringScheduleArn,
      Environment: job.Environment,
      ProcessingOutputConfig: job.ProcessingOutputConfig && {
        Outputs: job.ProcessingOutputConfig.Outputs?.map((o) => ({ OutputName: o.OutputName, ...(o.S3Output?.S3Uri ? { S3Output: { S3Uri: o.S3Output.S3Uri, LocalPath: o.S3Output.LocalPath } } : {}) })),
      },
    };
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}
