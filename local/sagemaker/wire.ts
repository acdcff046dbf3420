// SageMaker's two wire protocols on one loopback port: the control plane (AWS JSON 1.1,
// `POST /` with X-Amz-Target) and the runtime (REST-JSON, `POST /endpoints/{name}/invocations`).
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { errorBody, missingAuthenticationToken, SageMakerServiceError, serializationError, throttled, unknownOperation } from './errors';
import type { InvocationRequest, InvocationResult } from './hosting';

const TARGET_PREFIX = 'SageMaker.';
const INVOCATIONS_PATH = /^\/endpoints\/([^/]+)\/invocations$/;

export interface WireHandlers {
  operations: Record<string, (input: unknown) => unknown>;
  invoke(request: InvocationRequest): Promise<InvocationResult>;
  /** Control-plane calls allowed per second before ThrottlingException. */
  rateLimit: number;
  /** Injected control-plane failures (throttling, internal errors), drawn per call. */
  injectFault?: () => SageMakerServiceError | undefined;
  /** Sees every control-plane call after it took effect (or was refused) and before the caller hears back. */
  observeCall?: (call: ObservedCall) => void | Promise<void>;
}

export interface ObservedCall {
  operation: string;
  input: unknown;
  /** The error code when the call failed. */
  error?: string;
  /** Refused before it was read (throttling, an injected fault): `input` is undefined then. */
  refused?: boolean;
}

/** awsJson1_1 carries timestamps as epoch seconds. */
function toWireJson(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key, v: unknown) {
    const raw = this[key];
    return raw instanceof Date ? raw.getTime() / 1000 : v;
  });
}

class RateWindow {
  private readonly calls: number[] = [];
  constructor(private readonly perSecond: number) {}
  admit(): boolean {
    const now = Date.now();
    while (this.calls.length && this.calls[0] <= now - 1000) this.calls.shift();
    if (this.calls.length >= this.perSecond) return false;
    this.calls.push(now);
    return true;
  }
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

function sendError(res: http.ServerResponse, err: unknown, contentType: string): void {
  const failure = err instanceof SageMakerServiceError ? err : new SageMakerServiceError('InternalFailure', (err as Error).message ?? String(err), 500);
  res.writeHead(failure.httpStatus, {
    'Content-Type': contentType,
    'x-amzn-ErrorType': failure.code,
    'x-amzn-RequestId': randomUUID(),
  });
  res.end(JSON.stringify(errorBody(failure)));
}

export function createWireServer(handlers: WireHandlers): http.Server {
  const window = new RateWindow(handlers.rateLimit);

  async function controlPlane(req: http.IncomingMessage, res: http.ServerResponse, target: string): Promise<void> {
    const contentType = 'application/x-amz-json-1.1';
    try {
      const body = await readBody(req);
      // SigV4 signatures are not checked, but the SDK always signs, so a request without one is not from it.
      if (!header(req, 'authorization')) throw missingAuthenticationToken();
      const refused = !window.admit() ? throttled() : handlers.injectFault?.();
      if (refused) {
        // Refused before taking effect; observers count these (throttles) too.
        await handlers.observeCall?.({ operation: target.slice(TARGET_PREFIX.length), input: undefined, error: refused.code, refused: true });
        throw refused;
      }
      const operation = target.startsWith(TARGET_PREFIX) ? handlers.operations[target.slice(TARGET_PREFIX.length)] : undefined;
      if (!operation) throw unknownOperation(target);
      let input: unknown;
      try {
        input = body.length ? JSON.parse(body.toString('utf8')) : {};
      } catch {
        throw serializationError('Start of structure or map found where not expected.');
      }
      if (typeof input !== 'object' || input === null || Array.isArray(input)) throw serializationError('Start of structure or map found where not expected.');
      let output: unknown;
      try {
        output = await operation(input);
      } catch (err) {
        await handlers.observeCall?.({ operation: target.slice(TARGET_PREFIX.length), input, error: err instanceof SageMakerServiceError ? err.code : 'InternalFailure' });
        throw err;
      }
      await handlers.observeCall?.({ operation: target.slice(TARGET_PREFIX.length), input });
      res.writeHead(200, { 'Content-Type': contentType, 'x-amzn-RequestId': randomUUID() });
      res.end(toWireJson(output ?? {}));
    } catch (err) {
      sendError(res, err, contentType);
    }
  }

  async function runtime(req: http.IncomingMessage, res: http.ServerResponse, endpointName: string): Promise<void> {
    try {
      const body = await readBody(req);
      if (!header(req, 'authorization')) throw missingAuthenticationToken();
      const result = await handlers.invoke({
        endpointName,
        body,
        contentType: header(req, 'content-type'),
        accept: header(req, 'accept'),
        customAttributes: header(req, 'x-amzn-sagemaker-custom-attributes'),
        targetVariant: header(req, 'x-amzn-sagemaker-target-variant'),
        inferenceId: header(req, 'x-amzn-sagemaker-inference-id'),
      });
      res.writeHead(200, {
        ...(result.contentType ? { 'Content-Type': result.contentType } : {}),
        'x-Amzn-Invoked-Production-Variant': result.invokedVariant,
        ...(result.customAttributes ? { 'X-Amzn-SageMaker-Custom-Attributes': result.customAttributes } : {}),
        'x-amzn-RequestId': randomUUID(),
      });
      res.end(result.body);
    } catch (err) {
      sendError(res, err, 'application/json');
    }
  }

  return http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const target = header(req, 'x-amz-target');
    const invocation = INVOCATIONS_PATH.exec(url.pathname);
    if (req.method === 'POST' && target !== undefined && url.pathname === '/') {
      void controlPlane(req, res, target);
    } else if (req.method === 'POST' && invocation) {
      void runtime(req, res, decodeURIComponent(invocation[1]));
    } else {
      req.resume();
      sendError(res, new SageMakerServiceError('UnknownOperationException', `No operation at ${req.method} ${url.pathname}`, 404), 'application/json');
    }
  });
}
