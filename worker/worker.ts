// The worker entry: connect, create a worker with the plugin, run until stopped.
// Temporal connection from @temporalio/envconfig (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
// TLS, profiles); AWS from the SDK's own chain (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL_SAGEMAKER, ...).
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection, Worker } from '@temporalio/worker';
import { DEFAULT_TASK_QUEUE, SageMakerRetrainingPlugin } from '../index';

async function run() {
  const { connectionOptions, namespace } = loadClientConnectConfig();
  const connection = await NativeConnection.connect(connectionOptions);
  try {
    // The cap on the interval between status polls of a running job (polls start at 1 s and double).
    const maxPollSeconds = positiveNumber('RETRAINING_JOB_POLL_MAX_SECONDS', 600);
    const worker = await Worker.create({
      connection,
      namespace: namespace ?? 'default',
      taskQueue: process.env.RETRAINING_TASK_QUEUE ?? DEFAULT_TASK_QUEUE,
      workflowsPath: require.resolve('./workflows'),
      plugins: [
        new SageMakerRetrainingPlugin({
          sagemaker: new SageMakerClient({}),
          s3: new S3Client({}),
          runtime: new SageMakerRuntimeClient({}),
          jobPolling: { maxMs: maxPollSeconds * 1000, firstMs: Math.min(1000, maxPollSeconds * 1000) },
          sageMakerCallsPerSecond: positiveNumber('RETRAINING_SAGEMAKER_CALLS_PER_SECOND', 10),
        }),
      ],
    });
    await worker.run();
  } finally {
    await connection.close();
  }
}

function positiveNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!(value > 0) || !Number.isFinite(value)) throw new Error(`${name} must be a positive number, got '${raw}'`);
  return value;
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
