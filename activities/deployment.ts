// Promotion: deploy an approved package to the endpoint (create it for the first model, otherwise a
// blue/green UpdateEndpoint), keeping the endpoint's data capture, then prove the new model answers.
import { ApplicationFailure } from '@temporalio/activity';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  UpdateEndpointCommand,
  type DataCaptureConfig,
  type DescribeEndpointCommandOutput,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { S3Client } from '@aws-sdk/client-s3';
import type { PipelineConfig } from '../domain/config';
import { isAlreadyExists, isNotFound, seconds, waitForSageMaker, type JobPolling } from './sagemaker-jobs';
import { readLines } from './s3-objects';
import type { Champion, DatasetVersionSummary, Deployment, ServingCheck } from './types';

export interface DeployCandidateInput {
  config: PipelineConfig;
  modelPackageArn: string;
  champion: Champion | null;
  modelName: string;
  endpointConfigName: string;
}

export async function deployCandidate(sagemaker: SageMakerClient, polling: JobPolling, input: DeployCandidateInput): Promise<Deployment> {
  const { config, champion, modelName, endpointConfigName } = input;
  const endpointName = config.endpoint.name;
  const started = new Date();

  await createUnlessExists(
    () => sagemaker.send(new DescribeModelCommand({ ModelName: modelName })),
    () => sagemaker.send(new CreateModelCommand({ ModelName: modelName, ExecutionRoleArn: config.roleArn, PrimaryContainer: { ModelPackageName: input.modelPackageArn } })),
  );

  const endpoint = await describeEndpoint(sagemaker, endpointName);
  // Re-check the champion just before promotion, so a concurrent manual change is not overwritten.
  const serving = endpoint?.EndpointConfigName;
  if (serving && serving !== endpointConfigName && serving !== champion?.endpointConfigName) {
    throw ApplicationFailure.nonRetryable(
      `endpoint ${endpointName} now serves ${serving}, not the champion's ${champion?.endpointConfigName ?? '(no endpoint)'} this run started from; not overwriting a change made meanwhile`,
      'ChampionChanged',
    );
  }

  const capture = serving ? (await sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: serving }))).DataCaptureConfig : undefined;
  await createUnlessExists(
    () => sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: endpointConfigName })),
    () =>
      sagemaker.send(
        new CreateEndpointConfigCommand({
          EndpointConfigName: endpointConfigName,
          ProductionVariants: [
            {
              VariantName: config.endpoint.variant,
              ModelName: modelName,
              InstanceType: config.endpoint.instanceType as never,
              InitialInstanceCount: config.endpoint.initialInstanceCount,
              InitialVariantWeight: 1,
            },
          ],
          DataCaptureConfig: capture ?? defaultCapture(config),
        }),
      ),
  );

  let created = false;
  if (!endpoint) {
    created = true;
    await createUnlessExists(
      () => sagemaker.send(new DescribeEndpointCommand({ EndpointName: endpointName })),
      () => sagemaker.send(new CreateEndpointCommand({ EndpointName: endpointName, EndpointConfigName: endpointConfigName })),
    );
  } else if (serving !== endpointConfigName && endpoint.EndpointStatus !== 'Updating') {
    await sagemaker.send(
      new UpdateEndpointCommand({
        EndpointName: endpointName,
        EndpointConfigName: endpointConfigName,
        DeploymentConfig: {
          BlueGreenUpdatePolicy: { TrafficRoutingConfiguration: { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0 }, TerminationWaitInSeconds: 0 },
        },
      }),
    );
  }

  const done = await waitForSageMaker({
    describe: () => sagemaker.send(new DescribeEndpointCommand({ EndpointName: endpointName })),
    isFinished: (e) => e.EndpointStatus === 'InService' || e.EndpointStatus === 'Failed',
    progress: (e) => ({ endpointName, status: e.EndpointStatus }),
    polling,
  });
  if (done.EndpointStatus === 'Failed' || done.EndpointConfigName !== endpointConfigName) {
    throw ApplicationFailure.nonRetryable(
      `endpoint ${endpointName} did not take ${endpointConfigName}: status ${done.EndpointStatus}, serving ${done.EndpointConfigName}${done.FailureReason ? `: ${done.FailureReason}` : ''}`,
      'DeploymentFailed',
    );
  }
  return { endpointName, endpointConfigName, modelName, created, sageMakerSeconds: seconds(started, done.LastModifiedTime ?? new Date()) };
}

export interface VerifyServingInput {
  config: PipelineConfig;
  expectedTrainingJob: string;
  dataset: DatasetVersionSummary;
}

/** Sends one holdout row through InvokeEndpoint and reads which training job's model answered. */
export async function verifyServing(runtime: SageMakerRuntimeClient, s3: S3Client, input: VerifyServingInput): Promise<ServingCheck> {
  let features: string | undefined;
  for await (const { line } of readLines(s3, input.dataset.channels.holdout)) {
    if (line.trim()) {
      features = line.split(',').slice(1).join(',');
      break;
    }
  }
  if (!features) throw ApplicationFailure.nonRetryable(`holdout ${input.dataset.channels.holdout} is empty: nothing to verify the endpoint with`, 'ClientError');
  const response = await runtime.send(
    new InvokeEndpointCommand({ EndpointName: input.config.endpoint.name, ContentType: 'text/csv', Accept: 'application/json', Body: new TextEncoder().encode(features) }),
  );
  const answeredBy = /(?:^|[;,\s])training_job_name=([^;,\s]+)/.exec(response.CustomAttributes ?? '')?.[1] ?? null;
  return { servingNewModel: answeredBy === input.expectedTrainingJob, answeredBy };
}

async function describeEndpoint(sagemaker: SageMakerClient, name: string): Promise<DescribeEndpointCommandOutput | null> {
  try {
    return await sagemaker.send(new DescribeEndpointCommand({ EndpointName: name }));
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

async function createUnlessExists(describe: () => Promise<unknown>, create: () => Promise<unknown>): Promise<void> {
  try {
    await describe();
    return;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  try {
    await create();
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
}

function defaultCapture(config: PipelineConfig): DataCaptureConfig {
  return {
    EnableCapture: true,
    InitialSamplingPercentage: 100,
    DestinationS3Uri: config.endpoint.captureS3Uri,
    CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
    CaptureContentTypeHeader: { CsvContentTypes: ['text/csv'], JsonContentTypes: ['application/json'] },
  };
}
