// Serving entry point of the local linear learner, under SageMaker's inference-container contract:
// the model is extracted into /opt/ml/model, GET /ping answers 200 once it is loaded, and
// POST /invocations scores rows. Responses follow the built-in linear learner's JSON, and every one
// names the model's training job in X-Amzn-SageMaker-Custom-Attributes so a caller (a blue/green
// check, a test) can tell which model answered.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ClientError, log, runEntryPoint } from '../container';
import { parseCsvNumber, parseFeatureRows } from '../labelled-csv';
import { containerPaths } from '../opt-ml';
import { loadLinearLearnerModel, predict, type LinearLearnerModel, type Prediction } from './model';

/** SageMaker's real-time invocation payload limit. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
const CUSTOM_ATTRIBUTES_HEADER = 'X-Amzn-SageMaker-Custom-Attributes';
const REQUEST_CONTENT_TYPES = ['text/csv', 'application/json', 'application/jsonlines'] as const;
const RESPONSE_CONTENT_TYPES = ['application/json', 'application/jsonlines'] as const;
/** How long in-flight requests get after SIGTERM before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 3000;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function mediaType(header: string | undefined): string | undefined {
  return header?.split(';')[0].trim().toLowerCase() || undefined;
}

function featuresOf(value: unknown, where: string, featureDim: number): number[] {
  if (!Array.isArray(value)) throw new ClientError(`${where}: "features" must be an array of ${featureDim} numbers`);
  if (value.length !== featureDim) throw new ClientError(`${where}: expected ${featureDim} features, found ${value.length}`);
  return value.map((v, j) => {
    const n = typeof v === 'number' ? v : typeof v === 'string' ? parseCsvNumber(v) : null;
    if (n === null || !Number.isFinite(n)) throw new ClientError(`${where}: feature ${j + 1} is ${JSON.stringify(v)}, not a finite number`);
    return n;
  });
}

/** Feature rows from a request body in any of the accepted content types. */
function requestRows(contentType: string, body: string, featureDim: number): number[][] {
  switch (contentType) {
    case 'text/csv':
      return parseFeatureRows(body, featureDim);
    case 'application/json': {
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch (err) {
        throw new ClientError(`the body is not valid JSON: ${(err as Error).message}`);
      }
      const instances = (json as { instances?: unknown })?.instances;
      if (Array.isArray(instances)) {
        return instances.map((instance, i) => featuresOf((instance as { features?: unknown })?.features, `instances[${i}]`, featureDim));
      }
      if (json && typeof json === 'object' && 'features' in json) return [featuresOf((json as { features: unknown }).features, 'the request', featureDim)];
      throw new ClientError('expected {"instances": [{"features": [...]}, ...]}');
    }
    case 'application/jsonlines':
      return body
        .split(/\r?\n/)
        .filter((line) => line.trim() !== '')
        .map((line, i) => {
          let json: unknown;
          try {
            json = JSON.parse(line);
          } catch (err) {
            throw new ClientError(`line ${i + 1} is not valid JSON: ${(err as Error).message}`);
          }
          return featuresOf((json as { features?: unknown })?.features, `line ${i + 1}`, featureDim);
        });
    default:
      throw new HttpError(415, `content type ${contentType} is not supported; send one of ${REQUEST_CONTENT_TYPES.join(', ')}`);
  }
}

function responseType(accept: string | undefined): (typeof RESPONSE_CONTENT_TYPES)[number] {
  const wanted = (accept ?? '').split(',').map(mediaType).filter((t): t is string => t !== undefined);
  if (wanted.length === 0) return 'application/json';
  for (const type of wanted) {
    if (type === '*/*' || type === 'application/*') return 'application/json';
    const supported = RESPONSE_CONTENT_TYPES.find((t) => t === type);
    if (supported) return supported;
  }
  throw new HttpError(406, `cannot answer in ${accept}; accept one of ${RESPONSE_CONTENT_TYPES.join(', ')}`);
}

function renderPredictions(predictions: Prediction[], type: (typeof RESPONSE_CONTENT_TYPES)[number]): string {
  return type === 'application/json' ? JSON.stringify({ predictions }) : predictions.map((p) => JSON.stringify(p)).join('\n') + '\n';
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_PAYLOAD_BYTES) throw new HttpError(413, `the payload is larger than ${MAX_PAYLOAD_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function handleRequest(model: LinearLearnerModel): (req: IncomingMessage, res: ServerResponse) => void {
  const attributes = `training_job_name=${model.training_job_name}`;
  const send = (res: ServerResponse, status: number, contentType: string, body: string) => {
    res.writeHead(status, { 'Content-Type': contentType, [CUSTOM_ATTRIBUTES_HEADER]: attributes });
    res.end(body);
  };
  return (req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    void (async () => {
      try {
        if (req.method === 'GET' && url === '/ping') return send(res, 200, 'text/plain', '');
        if (req.method === 'GET' && url === '/execution-parameters') {
          // Batch transform asks this before it sends records.
          return send(res, 200, 'application/json', JSON.stringify({ MaxConcurrentTransforms: 1, BatchStrategy: 'MULTI_RECORD', MaxPayloadInMB: 6 }));
        }
        if (url !== '/invocations') throw new HttpError(404, `no route ${req.method} ${url}; use GET /ping or POST /invocations`);
        if (req.method !== 'POST') throw new HttpError(405, '/invocations takes POST');
        const type = responseType(req.headers.accept);
        const contentType = mediaType(req.headers['content-type']) ?? 'text/csv';
        const body = await readBody(req);
        const rows = requestRows(contentType, body, model.feature_dim);
        if (rows.length === 0) throw new ClientError('the request has no rows');
        send(res, 200, type, renderPredictions(rows.map((row) => predict(model, row)), type));
      } catch (err) {
        const status = err instanceof HttpError ? err.status : err instanceof ClientError ? 400 : 500;
        if (status === 500) log(`invocation failed: ${(err as Error).stack ?? String(err)}`, 'ERROR');
        send(res, status, 'text/plain', `${(err as Error).message}\n`);
      }
    })();
  };
}

async function serve(): Promise<void> {
  const paths = containerPaths();
  const model = await loadLinearLearnerModel(paths.modelDir);
  const port = Number(process.env.SAGEMAKER_BIND_TO_PORT ?? 8080);
  // A real container must listen on every interface; a local stand-in (OPT_ML set) stays on loopback.
  const host = process.env.SAGEMAKER_BIND_TO_HOST ?? (process.env.OPT_ML ? '127.0.0.1' : '0.0.0.0');
  const server = createServer(handleRequest(model));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address() as AddressInfo;
  log(`serving the ${model.predictor_type} from training job ${model.training_job_name} (${model.feature_dim} features) on ${address.address}:${address.port}`);

  const shutdown = (signal: NodeJS.Signals) => {
    log(`received ${signal}: closing the server`);
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), SHUTDOWN_GRACE_MS).unref();
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

void runEntryPoint(serve, []);
