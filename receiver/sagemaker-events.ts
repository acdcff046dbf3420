// Receives SageMaker's EventBridge events, verbatim, and tells the waiting run. Served over HTTP for an
// EventBridge API destination, or as a Lambda handler; both answer 2xx only once the signal is durable
// in Temporal, so EventBridge retries anything that was not delivered.
import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { InvalidEventError, routeSageMakerEvent } from '../domain/sagemaker-events';
import { trainingJobStateChanged } from '../workflows';

export interface EventReceiverOptions {
  /** The Temporal client that signals runs (connect it with @temporalio/envconfig). */
  client: Client;
  /**
   * A shared secret the sender puts in `apiKeyHeader` (an API destination's connection does this).
   * Without one, any local process can post events; set one anywhere else.
   */
  apiKey?: string;
  /** Default `x-api-key`. */
  apiKeyHeader?: string;
  log?: (line: string) => void;
}

export interface DeliveryResult {
  statusCode: number;
  body: { delivered?: string; ignored?: string; error?: string };
}

/** Validates one event and signals the run it belongs to. Never throws: the result says what happened. */
export async function deliverSageMakerEvent(client: Client, event: unknown): Promise<DeliveryResult> {
  let route;
  try {
    route = routeSageMakerEvent(event);
  } catch (err) {
    if (err instanceof InvalidEventError) return { statusCode: 400, body: { error: err.message } };
    throw err;
  }
  if (route.kind === 'ignored') return { statusCode: 202, body: { ignored: route.reason } };
  try {
    await client.workflow.getHandle(route.workflowId, route.runId).signal(trainingJobStateChanged, route.change);
  } catch (err) {
    // A late event for a run that has ended is harmless, and retrying it would not help.
    if (err instanceof WorkflowNotFoundError) return { statusCode: 202, body: { ignored: `run ${route.workflowId} ${route.runId ?? ''} has ended or does not exist` } };
    return { statusCode: 503, body: { error: `could not signal ${route.workflowId}: ${(err as Error).message}` } };
  }
  return { statusCode: 200, body: { delivered: `${route.change.jobName} ${route.change.status} → ${route.workflowId}` } };
}

const MAX_BODY_BYTES = 1024 * 1024;

export interface EventReceiver {
  url: string;
  close(): Promise<void>;
}

/** An HTTP endpoint for EventBridge API destinations: POST the event JSON to `/`. */
export async function startEventReceiver(opts: EventReceiverOptions & { port?: number; host?: string }): Promise<EventReceiver> {
  const headerName = (opts.apiKeyHeader ?? 'x-api-key').toLowerCase();
  const expected = opts.apiKey ? Buffer.from(opts.apiKey) : undefined;
  const log = opts.log ?? (() => {});
  const server = http.createServer((req, res) => {
    const answer = (result: DeliveryResult) => {
      res.writeHead(result.statusCode, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(result.body));
      // Ignored events are routine (a rule may forward every SageMaker event); failures are not.
      if (result.statusCode >= 400) log(`event ${result.statusCode}: ${result.body.error}`);
    };
    if (req.method !== 'POST') return answer({ statusCode: 405, body: { error: 'POST an EventBridge event as JSON' } });
    if (expected) {
      const given = Buffer.from(String(req.headers[headerName] ?? ''));
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return answer({ statusCode: 401, body: { error: `missing or wrong ${headerName}` } });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) return answer({ statusCode: 413, body: { error: `event larger than ${MAX_BODY_BYTES} bytes` } });
      let event: unknown;
      try {
        event = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch (err) {
        return answer({ statusCode: 400, body: { error: `body is not JSON: ${(err as Error).message}` } });
      }
      deliverSageMakerEvent(opts.client, event).then(answer, (err: Error) => answer({ statusCode: 500, body: { error: err.message } }));
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
 * The same delivery as a Lambda handler, for an EventBridge rule that targets a Lambda function.
 * It throws on anything but delivered or harmlessly ignored, so Lambda's retry policy applies.
 */
export function createSageMakerEventHandler(client: Client | (() => Promise<Client>)) {
  let connected: Promise<Client> | undefined;
  return async (event: unknown): Promise<DeliveryResult['body']> => {
    connected ??= typeof client === 'function' ? client() : Promise.resolve(client);
    const result = await deliverSageMakerEvent(await connected, event);
    if (result.statusCode >= 300) throw new Error(result.body.error ?? `event not delivered (${result.statusCode})`);
    return result.body;
  };
}
