// Receives EventBridge events, verbatim: SageMaker's job and model package events tell the waiting run,
// and alerts (CloudWatch alarms, Model Monitor executions with violations) start or join the model's run
// (receiver/alerts.ts). Served over HTTP for an EventBridge API destination, or as a Lambda handler; both
// answer 2xx only once the signal is durable in Temporal, so EventBridge retries anything not delivered.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeModelPackageCommand, ListTagsCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { isNotFound } from '../activities/sagemaker-jobs';
import { authenticateRequest, type ReceiverAuthentication } from './authentication';
import { InvalidEventError, routeSageMakerEvent, type EventRoute, type JobType } from '../domain/sagemaker-events';
import { alertDelivery, deliverAlertEvent, type AlertOptions, type AlertDelivery } from './alerts';
import { modelPackageStateChanged, processingJobStateChanged, trainingJobStateChanged } from '../workflows';

/** The signal each kind of job's events become. */
const SIGNALS = { training: trainingJobStateChanged, processing: processingJobStateChanged } satisfies Record<JobType, unknown>;

export interface DeliveryOptions {
  /**
   * Reads a job's tags (ListTags) when its event does not carry them, as processing job events do not,
   * and a model package (DescribeModelPackage) when its event does not say which run registered it.
   * Needs `sagemaker:ListTags` and `sagemaker:DescribeModelPackage`. Default: a client from the AWS
   * SDK's default chain, made on first use.
   */
  sagemaker?: SageMakerClient;
}

export interface EventOptions extends DeliveryOptions {
  /**
   * Alerts: the routing file (models and the alarms, monitoring schedules and endpoints that retrain
   * each) and the task queue runs start on. Without it, alerts are refused with 422.
   */
  alerts?: AlertOptions;
}

export interface EventReceiverOptions extends EventOptions {
  /** The Temporal client that signals runs (connect it with @temporalio/envconfig). */
  client: Client;
  /**
   * How a request proves it is authentic: an API key header (what an API destination's connection
   * sends) or an HMAC-SHA256 signature over timestamp and body. Default: `apiKey` if given, else none
   * (any local process can post events; set one anywhere else).
   */
  authentication?: ReceiverAuthentication;
  /** Shorthand for `authentication: { kind: 'api-key', apiKey, header: apiKeyHeader }`. */
  apiKey?: string;
  /** Default `x-api-key`. */
  apiKeyHeader?: string;
  log?: (line: string) => void;
}

export interface DeliveryResult {
  statusCode: number;
  /** `alert` is the alert record when the event was one (delivered or refused). */
  body: { delivered?: string; ignored?: string; error?: string; alert?: { eventId: string; kind: string; source: string; model?: string } };
}

let defaultSageMaker: SageMakerClient | undefined;

/** The SageMaker client lookups use: the one given, or one from the AWS SDK's default chain. */
export function sageMakerFor(opts: DeliveryOptions): SageMakerClient {
  return opts.sagemaker ?? (defaultSageMaker ??= new SageMakerClient({}));
}

/**
 * Delivers any event the receiver takes: an alert starts or joins its model's run, anything else goes to
 * deliverSageMakerEvent. Never throws for a bad event: the result says what happened.
 */
export async function deliverEvent(client: Client, event: unknown, opts: EventOptions & { prepared?: AlertDelivery } = {}): Promise<DeliveryResult> {
  const alerts = opts.prepared ?? (opts.alerts ? alertDelivery(opts.alerts) : undefined);
  const result = await deliverAlertEvent(client, event, { ...opts, alerts });
  return result ?? deliverSageMakerEvent(client, event, opts);
}

/** Validates one event and signals the run it belongs to. Never throws: the result says what happened. */
export async function deliverSageMakerEvent(client: Client, event: unknown, opts: DeliveryOptions = {}): Promise<DeliveryResult> {
  let route: EventRoute;
  try {
    route = routeSageMakerEvent(event);
  } catch (err) {
    if (err instanceof InvalidEventError) return { statusCode: 400, body: { error: err.message } };
    throw err;
  }
  if (route.kind === 'lookup-tags') {
    let tags;
    try {
      tags = await tagsOf(sageMakerFor(opts), route.resourceArn);
    } catch (err) {
      // Throttled, or not allowed ListTags: EventBridge retries a 5xx, and the poll remains the safety net.
      return { statusCode: 503, body: { error: `could not read the tags of ${route.job} job ${route.jobName}: ${(err as Error).message}` } };
    }
    if (!tags) return { statusCode: 202, body: { ignored: `${route.job} job ${route.jobName} no longer exists, so no tags say which run it belongs to` } };
    route = routeSageMakerEvent(event, tags);
  }
  if (route.kind === 'lookup-package') {
    const arn = route.modelPackageArn;
    let metadata;
    try {
      metadata = await packageMetadataOf(sageMakerFor(opts), arn);
    } catch (err) {
      return { statusCode: 503, body: { error: `could not read model package ${arn}: ${(err as Error).message}` } };
    }
    if (!metadata) return { statusCode: 202, body: { ignored: `model package ${arn} no longer exists, so nothing says which run registered it` } };
    route = routeSageMakerEvent(event, metadata);
  }
  if (route.kind === 'ignored') return { statusCode: 202, body: { ignored: route.reason } };
  if (route.kind === 'lookup-tags' || route.kind === 'lookup-package') throw new Error(`event still asks for a lookup after one: ${JSON.stringify(route)}`);
  const handle = client.workflow.getHandle(route.workflowId, route.runId);
  const what = route.kind === 'signal' ? `${route.change.jobName} ${route.change.status}` : `${route.change.modelPackageArn} ${route.change.approvalStatus}`;
  try {
    if (route.kind === 'signal') await handle.signal(SIGNALS[route.job], route.change);
    else await handle.signal(modelPackageStateChanged, route.change);
  } catch (err) {
    // A late event for a run that has ended is harmless, and retrying it would not help.
    if (err instanceof WorkflowNotFoundError) return { statusCode: 202, body: { ignored: `run ${route.workflowId} ${route.runId ?? ''} has ended or does not exist` } };
    return { statusCode: 503, body: { error: `could not signal ${route.workflowId}: ${(err as Error).message}` } };
  }
  return { statusCode: 200, body: { delivered: `${what} → ${route.workflowId}` } };
}

/** A model package's CustomerMetadataProperties ({} when it has none), or null when the package is gone. */
async function packageMetadataOf(sagemaker: SageMakerClient, arn: string): Promise<Record<string, string> | null> {
  try {
    const described = await sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: arn }));
    return described.CustomerMetadataProperties ?? {};
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

const MAX_BODY_BYTES = 1024 * 1024;

export interface EventReceiver {
  url: string;
  close(): Promise<void>;
}

/**
 * An HTTP endpoint for EventBridge API destinations: POST the event JSON to `/`. A bad routing file
 * (`alerts.routing`) fails here, naming each bad field.
 */
export async function startEventReceiver(opts: EventReceiverOptions & { port?: number; host?: string }): Promise<EventReceiver> {
  const authentication: ReceiverAuthentication = opts.authentication ?? (opts.apiKey ? { kind: 'api-key', apiKey: opts.apiKey, header: opts.apiKeyHeader } : { kind: 'none' });
  const prepared = opts.alerts ? alertDelivery(opts.alerts) : undefined;
  const log = opts.log ?? (() => {});
  const server = http.createServer((req, res) => {
    const answer = (result: DeliveryResult) => {
      res.writeHead(result.statusCode, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(result.body));
      // Ignored events are routine (a rule may forward every SageMaker event); failures and alerts are not.
      if (result.statusCode >= 400) log(`event ${result.statusCode}: ${result.body.error}`);
      else if (result.body.alert) log(`alert ${result.statusCode}: ${result.body.delivered}`);
    };
    if (req.method !== 'POST') return answer({ statusCode: 405, body: { error: 'POST an EventBridge event as JSON' } });
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) return answer({ statusCode: 413, body: { error: `event larger than ${MAX_BODY_BYTES} bytes` } });
      const raw = Buffer.concat(chunks);
      // The signature covers the raw bytes, so authenticity is checked before the body is parsed.
      const verdict = authenticateRequest(authentication, req.headers, raw);
      if (!verdict.ok) return answer({ statusCode: verdict.statusCode, body: { error: verdict.error } });
      let event: unknown;
      try {
        event = JSON.parse(raw.toString('utf8'));
      } catch (err) {
        return answer({ statusCode: 400, body: { error: `body is not JSON: ${(err as Error).message}` } });
      }
      deliverEvent(opts.client, event, { ...opts, prepared }).then(answer, (err: Error) => answer({ statusCode: 500, body: { error: err.message } }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * The same delivery as a Lambda handler, for an EventBridge rule that targets a Lambda function (Lambda's
 * own IAM invocation is the authentication). It throws on anything but delivered or harmlessly ignored,
 * so Lambda's retry policy and its dead-letter destination apply; an unmapped alert throws, naming what
 * was unmapped.
 */
export function createEventHandler(client: Client | (() => Promise<Client>), opts: EventOptions = {}) {
  let connected: Promise<Client> | undefined;
  const prepared = opts.alerts ? alertDelivery(opts.alerts) : undefined;
  return async (event: unknown): Promise<DeliveryResult['body']> => {
    connected ??= typeof client === 'function' ? client() : Promise.resolve(client);
    const result = await deliverEvent(await connected, event, { ...opts, prepared });
    if (result.statusCode >= 300) throw new Error(result.body.error ?? `event not delivered (${result.statusCode})`);
    return result.body;
  };
}

/** The handler's earlier name: it now takes alerts too. */
export const createSageMakerEventHandler = createEventHandler;

/** A job's tags as a map, or null when the job is gone. ListTags pages at 50 by default. */
async function tagsOf(sagemaker: SageMakerClient, resourceArn: string): Promise<Record<string, string> | null> {
  const tags: Record<string, string> = {};
  let nextToken: string | undefined;
  try {
    do {
      const page = await sagemaker.send(new ListTagsCommand({ ResourceArn: resourceArn, MaxResults: 100, NextToken: nextToken }));
      for (const tag of page.Tags ?? []) if (tag.Key) tags[tag.Key] = tag.Value ?? '';
      nextToken = page.NextToken;
    } while (nextToken);
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
  return tags;
}
