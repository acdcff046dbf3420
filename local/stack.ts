// Everything local mode needs, started together: a Temporal dev server, S3 (s3rver) and the local
// SageMaker. Callers reach them only through the standard settings this returns (AWS_ENDPOINT_URL_*,
// TEMPORAL_ADDRESS), exactly as they would reach AWS and Temporal Cloud.
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { Worker } from '@temporalio/worker';
import { SageMakerRetrainingPlugin, type SageMakerRetrainingPluginOptions } from '../plugin';
import { startLocalSageMaker, type LocalSageMakerOptions } from './sagemaker';
import { LOCAL_S3_CREDENTIALS, startLocalS3 } from './s3';
import { startLocalTemporal, type LocalTemporal } from './temporal';

export interface LocalStack {
  temporal: LocalTemporal;
  s3Endpoint: string;
  sageMakerEndpoint: string;
  /** The standard variables that point the AWS SDK and Temporal clients at this stack. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export interface LocalStackOptions {
  /** Where S3 objects, job roots and logs live. */
  dataDir: string;
  /** The Temporal SQLite file; kept across restarts. */
  temporalDbFile?: string;
  buckets: string[];
  region?: string;
  log?: (line: string) => void;
  /** Applies `env` to this process too, so clients built with defaults reach the stack. */
  applyToProcess?: boolean;
  /** Passed to the local SageMaker: see every control-plane call before its caller hears back. */
  observeSageMakerCall?: LocalSageMakerOptions['observeCall'];
  /** Other local SageMaker options: a time scale, faults. */
  sageMaker?: Omit<LocalSageMakerOptions, 'dataDir' | 's3' | 'region' | 'observeCall'>;
}

export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const region = opts.region ?? 'us-east-1';
  const log = opts.log ?? (() => {});
  const closers: (() => Promise<void>)[] = [];
  try {
    const temporal = await startLocalTemporal({ dbFile: opts.temporalDbFile ?? path.join(opts.dataDir, 'temporal.db'), log });
    closers.push(() => temporal.close());
    const s3 = await startLocalS3({ directory: path.join(opts.dataDir, 's3'), buckets: opts.buckets });
    closers.push(() => s3.close());
    const s3Client = new S3Client({ region, endpoint: s3.endpoint, credentials: LOCAL_S3_CREDENTIALS });
    const sageMaker = await startLocalSageMaker({ ...opts.sageMaker, dataDir: path.join(opts.dataDir, 'sagemaker'), s3: s3Client, region, observeCall: opts.observeSageMakerCall });
    closers.push(() => sageMaker.close());
    const env: Record<string, string> = {
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ENDPOINT_URL_SAGEMAKER: sageMaker.endpoint,
      AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME: sageMaker.endpoint,
      AWS_EC2_METADATA_DISABLED: 'true',
      // Offline local mode: the SDK's notice about future Node.js support is noise here.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: temporal.namespace,
    };
    if (opts.applyToProcess) {
      Object.assign(process.env, env);
      delete process.env.AWS_PROFILE;
      delete process.env.AWS_SESSION_TOKEN;
    }
    return {
      temporal,
      s3Endpoint: s3.endpoint,
      sageMakerEndpoint: sageMaker.endpoint,
      env,
      close: async () => {
        for (const close of closers.reverse()) await close().catch(() => {});
      },
    };
  } catch (err) {
    for (const close of closers.reverse()) await close().catch(() => {});
    throw err;
  }
}

/**
 * A worker inside this process, wired exactly as worker/worker.ts wires one (the plugin, the re-exported
 * workflows), but on the stack's own connection: for tests and benchmarks that drive runs directly.
 */
export async function startLocalWorker(
  stack: LocalStack,
  opts: { taskQueue: string } & Omit<SageMakerRetrainingPluginOptions, 'sagemaker' | 's3' | 'runtime'>,
): Promise<{ worker: Worker; stop(): Promise<void> }> {
  const { taskQueue, ...pluginOptions } = opts;
  const worker = await Worker.create({
    connection: stack.temporal.environment.nativeConnection,
    namespace: stack.temporal.namespace,
    taskQueue,
    workflowsPath: require.resolve('../worker/workflows'),
    plugins: [new SageMakerRetrainingPlugin({ sagemaker: new SageMakerClient({}), s3: new S3Client({}), runtime: new SageMakerRuntimeClient({}), ...pluginOptions })],
  });
  const running = worker.run();
  return {
    worker,
    stop: async () => {
      worker.shutdown();
      await running.catch(() => {});
    },
  };
}
