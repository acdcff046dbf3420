// Alerts that ask for a retraining, read from EventBridge events verbatim as AWS sends them: a CloudWatch
// alarm going into ALARM (on a Model Monitor metric such as feature_baseline_drift_<feature>), or a Model
// Monitor monitoring execution that ended with violations. Pure: the receiver does the lookups and the
// signalling; this decides what an event says.
import { z } from 'zod';
import { formatPath } from './config';

export const ALARM_STATE_CHANGE = 'CloudWatch Alarm State Change';
export const PROCESSING_JOB_STATE_CHANGE = 'SageMaker Processing Job State Change';

/** Model Monitor's drift metric; its alarms route through their EndpointName/ScheduleName dimensions. */
export const MODEL_MONITOR_DRIFT_METRIC_PREFIX = 'feature_baseline_drift_';

/** What the run records of an alert: compact, so a run can carry many in its history. */
export interface AlertRecord {
  /** The EventBridge event id. */
  eventId: string;
  /**
   * What the alert is about, the same in every copy of it: an alarm's ARN (or name) and the time of its
   * state change, or a monitoring execution's job. Runs record an alert once per key and once per event
   * id, since SageMaker may send one state change as several events with different ids.
   */
  key: string;
  /** The event's time (ISO 8601). */
  time: string;
  kind: 'alarm' | 'monitoring-execution';
  /** The alarm's name, or the monitoring schedule's. */
  source: string;
  summary: string;
  /** A monitoring execution's constraint_violations.json. */
  violationsS3Uri?: string;
}

/** The names an alert carries, which the routing config maps to a model. */
export interface AlertSubject {
  alarmName?: string;
  alarmArn?: string;
  /** The metrics an alarm watches, `namespace/name`, for the error an unmapped alarm gets. */
  metrics?: string[];
  /** From a monitoring execution, or from the dimensions of an alarm on Model Monitor's drift metric. */
  monitoringSchedule?: string;
  endpoint?: string;
}

export interface Alert {
  record: AlertRecord;
  subject: AlertSubject;
  /** Lines for the run's static details: the alarm's ARN and state change, or the execution. */
  details: string[];
}

export type AlertReading =
  | { kind: 'alert'; alert: Alert }
  /** An alarm or monitoring event that asks for nothing: a transition to OK, an execution without violations. */
  | { kind: 'acknowledged'; reason: string }
  /** A monitoring execution whose event lacks what says if it found violations: describe the job, then read again. */
  | { kind: 'lookup-execution'; jobName: string }
  /** Not an alarm or a monitoring execution: SageMaker job and model package events go to their runs. */
  | { kind: 'not-an-alert' };

export class InvalidAlertError extends Error {
  override readonly name = 'InvalidAlertError';
}

const envelope = z.looseObject({
  id: z.string().min(1),
  'detail-type': z.string(),
  source: z.union([z.string(), z.tuple([z.string()]).transform(([only]) => only)]),
  time: z.string().min(1),
  resources: z.array(z.string()).default([]),
  detail: z.record(z.string(), z.unknown()),
});

// The CloudWatch user guide's samples ("Alarm events and EventBridge"): reasonData is a JSON string, and a
// previousState may lack it (the metric math sample's INSUFFICIENT_DATA).
const alarmState = z.looseObject({
  value: z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']),
  reason: z.string().optional(),
  reasonData: z.string().optional(),
  timestamp: z.string().optional(),
});

const alarmMetric = z.looseObject({
  id: z.string().optional(),
  expression: z.string().optional(),
  metricStat: z
    .looseObject({
      metric: z.looseObject({
        name: z.string(),
        namespace: z.string().optional(),
        dimensions: z.record(z.string(), z.string()).optional(),
      }),
    })
    .optional(),
});

const alarmDetail = z.looseObject({
  alarmName: z.string().min(1),
  state: alarmState,
  previousState: alarmState.optional(),
  // Composite alarms carry an alarmRule instead of metrics.
  configuration: z.looseObject({ description: z.string().optional(), metrics: z.array(alarmMetric).optional() }).optional(),
});

const processingStatus = z.enum(['InProgress', 'Completed', 'Failed', 'Stopping', 'Stopped']);

/** DescribeProcessingJob's fields that tell a monitoring execution, its schedule and its result. */
const executionDetail = z.looseObject({
  ProcessingJobName: z.string().min(1),
  ProcessingJobArn: z.string().optional(),
  ProcessingJobStatus: processingStatus,
  ExitMessage: z.string().optional(),
  FailureReason: z.string().optional(),
  MonitoringScheduleArn: z.string().optional(),
  Environment: z.record(z.string(), z.string()).optional(),
  ProcessingOutputConfig: z
    .looseObject({
      Outputs: z
        .array(z.looseObject({ OutputName: z.string().optional(), S3Output: z.looseObject({ S3Uri: z.string().min(1), LocalPath: z.string().optional() }).optional() }))
        .optional(),
    })
    .optional(),
});
type ExecutionDetail = z.output<typeof executionDetail>;

/** The fields of DescribeProcessingJob's answer a `lookup-execution` fills in. */
export type DescribedExecution = Pick<ExecutionDetail, 'ExitMessage' | 'FailureReason' | 'MonitoringScheduleArn' | 'Environment' | 'ProcessingOutputConfig'> & {
  ProcessingJobStatus?: string;
};

const SUMMARY_CHARS = 300;

/**
 * Reads an event as an alert. Throws InvalidAlertError naming the bad field when an alarm or monitoring
 * event is malformed; anything else is `not-an-alert` (the SageMaker job routing validates it).
 * `described` is DescribeProcessingJob's answer for an event that answered `lookup-execution`.
 */
export function readAlert(body: unknown, described?: DescribedExecution): AlertReading {
  const parsed = envelope.safeParse(body);
  if (!parsed.success) return { kind: 'not-an-alert' };
  const event = parsed.data;
  if (event.source === 'aws.cloudwatch' && event['detail-type'] === ALARM_STATE_CHANGE) return readAlarm(event);
  if (event.source === 'aws.sagemaker' && event['detail-type'] === PROCESSING_JOB_STATE_CHANGE && isMonitoringExecution(event.detail, described)) {
    return readExecution(event, described);
  }
  return { kind: 'not-an-alert' };
}

type Envelope = z.output<typeof envelope>;

function readAlarm(event: Envelope): AlertReading {
  const parsed = alarmDetail.safeParse(event.detail);
  if (!parsed.success) throw new InvalidAlertError(`invalid ${ALARM_STATE_CHANGE}: ${describeIssues(parsed.error, 'detail')}`);
  const detail = parsed.data;
  const name = detail.alarmName;
  const from = detail.previousState?.value;
  const to = detail.state.value;
  if (to !== 'ALARM') return { kind: 'acknowledged', reason: `alarm ${name} went ${from ? `from ${from} ` : ''}to ${to}: only a transition into ALARM asks for a retraining` };

  const arn = event.resources.find((r) => /^arn:aws[a-z-]*:cloudwatch:[^:]*:\d*:alarm:/.test(r));
  const metrics = (detail.configuration?.metrics ?? []).flatMap((m) => (m.metricStat ? [m.metricStat.metric] : []));
  // Model Monitor emits its drift metric with EndpointName and ScheduleName dimensions (MonitoringSchedule for
  // batch transform); only those alarms may route by dimension, so a CPU alarm on the endpoint never retrains.
  const drift = metrics.find((m) => m.name.startsWith(MODEL_MONITOR_DRIFT_METRIC_PREFIX));
  const dims = drift?.dimensions ?? {};
  const monitoringSchedule = dims.ScheduleName ?? dims.MonitoringSchedule;
  const endpoint = dims.EndpointName;
  const reason = detail.state.reason ?? '(no reason given)';
  return {
    kind: 'alert',
    alert: {
      record: {
        eventId: event.id,
        key: `alarm ${arn ?? name} ${detail.state.timestamp ?? event.time}`,
        time: event.time,
        kind: 'alarm',
        source: name,
        summary: clip(`alarm ${name}${from ? ` ${from} → ALARM` : ' in ALARM'}: ${reason}`),
      },
      subject: {
        alarmName: name,
        ...(arn ? { alarmArn: arn } : {}),
        metrics: metrics.map((m) => `${m.namespace ? `${m.namespace}/` : ''}${m.name}`),
        ...(monitoringSchedule ? { monitoringSchedule } : {}),
        ...(endpoint ? { endpoint } : {}),
      },
      details: [
        `**Alarm** ${name}${arn ? ` (${arn})` : ''}`,
        `**State change** ${from ?? '?'} → ALARM at ${detail.state.timestamp ?? event.time}: ${reason}`,
        ...(drift ? [`**Metric** ${drift.namespace ? `${drift.namespace} ` : ''}${drift.name}${Object.keys(dims).length ? ` (${Object.entries(dims).map(([k, v]) => `${k}=${v}`).join(', ')})` : ''}`] : []),
      ],
    },
  };
}

/**
 * A monitoring schedule's processing job: DescribeProcessingJob names its MonitoringScheduleArn, and Model
 * Monitor sets `sagemaker_monitoring_schedule_name` in its environment (the container contract's inputs).
 */
function isMonitoringExecution(detail: Record<string, unknown>, described?: DescribedExecution): boolean {
  const env = (detail.Environment ?? {}) as Record<string, unknown>;
  return (
    typeof detail.MonitoringScheduleArn === 'string' ||
    typeof env.sagemaker_monitoring_schedule_name === 'string' ||
    typeof described?.MonitoringScheduleArn === 'string' ||
    typeof described?.Environment?.sagemaker_monitoring_schedule_name === 'string'
  );
}

function readExecution(event: Envelope, described?: DescribedExecution): AlertReading {
  const parsed = executionDetail.safeParse(event.detail);
  if (!parsed.success) throw new InvalidAlertError(`invalid ${PROCESSING_JOB_STATE_CHANGE} (a monitoring execution): ${describeIssues(parsed.error, 'detail')}`);
  const detail: ExecutionDetail = {
    ...parsed.data,
    ExitMessage: parsed.data.ExitMessage ?? described?.ExitMessage,
    FailureReason: parsed.data.FailureReason ?? described?.FailureReason,
    MonitoringScheduleArn: parsed.data.MonitoringScheduleArn ?? described?.MonitoringScheduleArn,
    Environment: parsed.data.Environment ?? described?.Environment,
    ProcessingOutputConfig: parsed.data.ProcessingOutputConfig ?? described?.ProcessingOutputConfig,
  };
  const job = detail.ProcessingJobName;
  const schedule = detail.Environment?.sagemaker_monitoring_schedule_name ?? detail.MonitoringScheduleArn?.split('/').pop() ?? '';
  const status = detail.ProcessingJobStatus;
  const what = `monitoring execution ${job} of schedule ${schedule}`;
  if (status === 'InProgress' || status === 'Stopping') return { kind: 'acknowledged', reason: `${what} is ${status}, not ended` };
  if (status !== 'Completed') {
    return { kind: 'acknowledged', reason: `${what} ${status}${detail.FailureReason ? ` (${detail.FailureReason})` : ''}: a failed execution says nothing about drift` };
  }
  if (detail.ExitMessage === undefined || !detail.ProcessingOutputConfig) {
    if (!described) return { kind: 'lookup-execution', jobName: job };
    if (detail.ExitMessage === undefined) return { kind: 'acknowledged', reason: `${what} completed without an ExitMessage, so nothing says it found violations` };
  }
  const exit = detail.ExitMessage!;
  // "Completed" is the job's status either way; Model Monitor says CompletedWithViolations in the exit message.
  if (!/^CompletedWithViolations\b/.test(exit)) return { kind: 'acknowledged', reason: `${what} completed without violations (ExitMessage: ${clip(exit)})` };

  const violationsS3Uri = violationsUri(detail);
  const endpoint = detail.Environment?.sagemaker_endpoint_name;
  return {
    kind: 'alert',
    alert: {
      record: {
        eventId: event.id,
        key: `monitoring-execution ${detail.ProcessingJobArn ?? job}`,
        time: event.time,
        kind: 'monitoring-execution',
        source: schedule,
        summary: clip(`monitoring schedule ${schedule}${endpoint ? ` on endpoint ${endpoint}` : ''}: ${exit}`),
        ...(violationsS3Uri ? { violationsS3Uri } : {}),
      },
      subject: { monitoringSchedule: schedule, ...(endpoint ? { endpoint } : {}) },
      details: [
        `**Monitoring schedule** ${schedule}${detail.MonitoringScheduleArn ? ` (${detail.MonitoringScheduleArn})` : ''}`,
        `**Execution** ${job}${detail.ProcessingJobArn ? ` (${detail.ProcessingJobArn})` : ''}: ${exit}`,
        violationsS3Uri ? `**Violations** ${violationsS3Uri}` : '**Violations** not located: the execution names no S3 output',
      ],
    },
  };
}

/**
 * The execution's constraint_violations.json: Model Monitor writes its results to `output_path`, the local
 * path of the schedule's (single) monitoring output, uploaded to that output's S3Uri.
 */
function violationsUri(detail: ExecutionDetail): string | undefined {
  const outputs = (detail.ProcessingOutputConfig?.Outputs ?? []).flatMap((o) => (o.S3Output ? [o.S3Output] : []));
  const outputPath = detail.Environment?.output_path;
  const result = outputs.find((o) => outputPath !== undefined && o.LocalPath?.replace(/\/+$/, '') === outputPath.replace(/\/+$/, '')) ?? outputs[0];
  return result ? `${result.S3Uri.replace(/\/+$/, '')}/constraint_violations.json` : undefined;
}

function clip(text: string): string {
  return text.length <= SUMMARY_CHARS ? text : `${text.slice(0, SUMMARY_CHARS - 1)}…`;
}

function describeIssues(error: z.ZodError, prefix: string): string {
  return error.issues.map((i) => `${[prefix, formatPath(i.path)].filter(Boolean).join('.')}: ${i.message}`).join('; ');
}
