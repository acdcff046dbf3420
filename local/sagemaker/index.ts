// The local SageMaker: an HTTP server on loopback that the unmodified AWS SDK clients reach
// through their usual endpoint settings, so pipelines can run end to end before touching AWS.
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ServiceContext } from './context';
import { controlPlaneOperations } from './control-plane';
import { DataCaptureWriter } from './data-capture';
import { EventDelivery } from './events';
import { controlPlaneFaultPicker, FaultCounter, parseFaults, TimeScale, type ControlPlaneFaults } from './faults';
import { HostingService } from './hosting';
import { ImageRegistry, type AlgorithmImage } from './images';
import { ModelRegistryService } from './model-registry';
import { ProcessingService } from './processing';
import { SageMakerStore } from './store';
import { TaggingService } from './tagging';
import { TrainingService } from './training';
import { createWireServer, type ObservedCall } from './wire';

export type { AlgorithmImage } from './images';
export { BUILT_IN_IMAGES } from './images';
export { FAULTS_TAG, type ControlPlaneFaults } from './faults';
export type {
  LocalSageMakerEvent,
  ProcessingJobStateChange,
  ProcessingJobStateChangeDetail,
  TrainingJobStateChange,
  TrainingJobStateChangeDetail,
} from './events';

export type { ObservedCall };

export interface LocalSageMakerOptions {
  /** Job roots, logs and extracted models live here. */
  dataDir: string;
  /** An S3 client aimed at local S3; inputs are downloaded and artifacts uploaded through it. */
  s3: S3Client;
  /** 0 picks a free port. */
  port?: number;
  /** Default 'us-east-1'. */
  region?: string;
  /** Default '000000000000'. */
  accountId?: string;
  /** Role ARNs that exist; others fail as an unassumable role would. Default '*'. */
  roles?: string[] | '*';
  /** SIGTERM grace on stop (SageMaker uses 120). Default 10. */
  stopGraceSeconds?: number;
  /** How often buffered data-capture records are written to S3. Default 1000. */
  captureFlushMs?: number;
  /** The account quota on instances across running training jobs (one per job by default). Default 20. */
  trainingInstanceQuota?: number;
  /** Control-plane calls per second, account-wide, before ThrottlingException (env LOCAL_SAGEMAKER_CALLS_PER_SECOND). Default 10000. */
  controlPlaneRateLimit?: number;
  /** How long an endpoint container may take to answer /ping, unless the variant says. Default 60000. */
  endpointStartupTimeoutMs?: number;
  /** How often checkpoints are uploaded while a job runs. Default 2000. */
  checkpointSyncMs?: number;
  /** Extra images by repository name, next to the built-in ones; paths absolute or project-relative. */
  images?: Record<string, AlgorithmImage>;
  /**
   * Control-plane calls answered with ThrottlingException or InternalFailure (HTTP 500), at these
   * rates, chosen by a generator seeded with `seed` (default 1). Default none.
   */
  faults?: ControlPlaneFaults;
  /** A fault list, as in the `local-sagemaker:faults` tag, applied to every training job. */
  trainingFaults?: string;
  /** Simulated seconds per real second. Default 1. */
  timeScale?: number;
  /**
   * Sees every control-plane call after it took effect and before the caller hears back: for counting
   * calls, and for tests that crash a client between a call's effect and its response.
   */
  observeCall?: (call: ObservedCall) => void | Promise<void>;
  /**
   * HTTP(S) URLs that get every EventBridge state-change event SageMaker would send (training and
   * processing jobs), POSTed as the JSON body the way an API destination delivers it. Default none.
   */
  eventTargets?: string[];
  /** Headers sent with every event POST, as an API destination's connection adds its auth header. */
  eventHeaders?: Record<string, string>;
  /** Send every event twice, with different ids, as SageMaker may; for testing receivers' idempotence. Default false. */
  duplicateEvents?: boolean;
  /** How long close() waits for pending event deliveries before abandoning them. Default 5000. */
  eventFlushTimeoutMs?: number;
}

/** Environment variables the server reads when the matching option is not given. */
const ENV = {
  timeScale: 'LOCAL_SAGEMAKER_TIME_SCALE',
  trainingFaults: 'LOCAL_SAGEMAKER_TRAINING_FAULTS',
  throttleRate: 'LOCAL_SAGEMAKER_THROTTLE_RATE',
  internalErrorRate: 'LOCAL_SAGEMAKER_INTERNAL_ERROR_RATE',
  seed: 'LOCAL_SAGEMAKER_FAULT_SEED',
  eventTargets: 'LOCAL_SAGEMAKER_EVENT_TARGETS',
  callsPerSecond: 'LOCAL_SAGEMAKER_CALLS_PER_SECOND',
} as const;

function eventTargets(opts: LocalSageMakerOptions): string[] {
  if (opts.eventTargets) return opts.eventTargets;
  return (process.env[ENV.eventTargets] ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
}

function envNumber(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`${name} must be a number, got '${raw}'`);
  return value;
}

function faultOptions(opts: LocalSageMakerOptions): { timeScale: number; trainingFaults?: string; faults?: ControlPlaneFaults } {
  const timeScale = opts.timeScale ?? envNumber(ENV.timeScale) ?? 1;
  if (!(timeScale > 0)) throw new Error(`timeScale must be a positive number, got ${timeScale}`);
  const faults: ControlPlaneFaults = {
    throttleRate: opts.faults?.throttleRate ?? envNumber(ENV.throttleRate),
    internalErrorRate: opts.faults?.internalErrorRate ?? envNumber(ENV.internalErrorRate),
    seed: opts.faults?.seed ?? envNumber(ENV.seed),
  };
  for (const rate of [faults.throttleRate, faults.internalErrorRate]) {
    if (rate !== undefined && !(rate >= 0 && rate <= 1)) throw new Error(`fault rates must be between 0 and 1, got ${rate}`);
  }
  return { timeScale, trainingFaults: opts.trainingFaults ?? process.env[ENV.trainingFaults], faults };
}

export interface LocalSageMaker {
  endpoint: string;
  /**
   * Puts a CloudWatch alarm into ALARM (or back to OK), as CloudWatch would: a blue/green rollout whose
   * AutoRollbackConfiguration names it rolls back while it is in ALARM (there is no local CloudWatch).
   */
  setAlarmState(alarmName: string, state: 'OK' | 'ALARM'): void;
  close(): Promise<void>;
}

export async function startLocalSageMaker(opts: LocalSageMakerOptions): Promise<LocalSageMaker> {
  const dataDir = path.resolve(opts.dataDir);
  await mkdir(path.join(dataDir, 'logs'), { recursive: true });
  const { timeScale, trainingFaults, faults } = faultOptions(opts);
  const region = opts.region ?? 'us-east-1';
  const accountId = opts.accountId ?? '000000000000';
  const events = new EventDelivery({
    targets: eventTargets(opts),
    headers: opts.eventHeaders ?? {},
    duplicate: opts.duplicateEvents ?? false,
    region,
    accountId,
  });
  const ctx: ServiceContext = {
    region,
    accountId,
    dataDir,
    s3: opts.s3,
    store: new SageMakerStore(),
    images: new ImageRegistry(opts.images),
    roles: opts.roles === undefined || opts.roles === '*' ? '*' : new Set(opts.roles),
    stopGraceMs: (opts.stopGraceSeconds ?? 10) * 1000,
    trainingInstanceQuota: opts.trainingInstanceQuota ?? 20,
    endpointStartupTimeoutMs: opts.endpointStartupTimeoutMs ?? 60_000,
    checkpointSyncMs: opts.checkpointSyncMs ?? 2000,
    time: new TimeScale(timeScale),
    faultCounter: new FaultCounter(),
    trainingFaults: trainingFaults?.trim() ? { value: trainingFaults, faults: parseFaults(trainingFaults) } : undefined,
    events,
  };
  const capture = new DataCaptureWriter(opts.s3, opts.captureFlushMs ?? 1000);
  const training = new TrainingService(ctx);
  const processing = new ProcessingService(ctx);
  const registry = new ModelRegistryService(ctx);
  const hosting = new HostingService(ctx, registry, capture);
  const tagging = new TaggingService(ctx);
  const server = createWireServer({
    operations: controlPlaneOperations({ training, processing, registry, hosting, tagging }),
    invoke: (request) => hosting.invoke(request),
    rateLimit: opts.controlPlaneRateLimit ?? envNumber(ENV.callsPerSecond) ?? 10_000,
    injectFault: controlPlaneFaultPicker(faults),
    observeCall: opts.observeCall,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    setAlarmState: (alarmName, state) => hosting.setAlarmState(alarmName, state),
    close() {
      closed ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await Promise.all([training.shutdown(), processing.shutdown(), hosting.shutdown()]);
        await capture.close();
        // After the services, so the Stopped events of jobs ended by close still go out.
        await events.flush(opts.eventFlushTimeoutMs ?? 5000);
        await stopped;
      })();
      return closed;
    },
  };
}
