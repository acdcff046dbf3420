// Training stage: one SageMaker training job per attempt, created at most once. The job name is
// derived from the run and the attempt, so a retried activity or a restarted worker finds the job it
// already started and waits for it instead of starting another.
import { Context } from '@temporalio/activity';
import {
  CreateTrainingJobCommand,
  DescribeTrainingJobCommand,
  StopTrainingJobCommand,
  type Channel,
  type CreateTrainingJobCommandInput,
  type DescribeTrainingJobCommandOutput,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import type { PipelineConfig } from '../domain/config';
import { trainingChannel, type ChannelSource } from '../domain/dataset-merge/channels';
import { classifyJobEnd } from '../domain/failure';
import { sageMakerName } from '../domain/job-names';
import { runTags } from '../domain/sagemaker-events';
import { createOnce, currentRun, isNotFound, seconds, stopUnlessEnded, waitForSageMaker, type JobPolling } from './sagemaker-jobs';
import { s3Join } from './s3-objects';
import type { Champion, DatasetVersionSummary, TrainingOutcome } from './types';

export interface TrainCandidateInput {
  config: PipelineConfig;
  champion: Champion | null;
  dataset: DatasetVersionSummary;
  jobName: string;
  attempt: number;
  /** The configured type, or a fallback after a capacity or quota failure. */
  instanceType: string;
  /** Use the run's checkpoint location (a later attempt resumes there) rather than a fresh one. */
  resumeFromCheckpoint: boolean;
}

/** What starting an attempt settled: the rest of the attempt (waiting, checking) works from this. */
export interface TrainingStart {
  jobName: string;
  attempt: number;
  instanceType: string;
  resumedFromCheckpoint: boolean;
  incrementalFrom: string | null;
  hyperparameters: Record<string, string>;
  hyperparameterChanges: TrainingOutcome['hyperparameterChanges'];
  /** True when the job already existed (a retry, or a restarted worker) and was attached to, not created. */
  reattached: boolean;
}

/** Creates the attempt's training job unless it exists. Short: waiting is awaitTraining's job. */
export async function startTraining(sagemaker: SageMakerClient, input: TrainCandidateInput): Promise<TrainingStart> {
  const { config, champion, dataset, jobName } = input;
  const { workflowId, runId } = currentRun();

  const inherited = champion?.trainingJobName ? await championHyperparameters(sagemaker, champion.trainingJobName) : {};
  const overrides = Object.fromEntries(Object.entries(config.training.hyperparameters).map(([k, v]) => [k, String(v)]));
  const hyperparameters = { ...inherited, ...overrides };
  const hyperparameterChanges: TrainingOutcome['hyperparameterChanges'] = {};
  for (const [name, value] of Object.entries(hyperparameters)) {
    if (inherited[name] !== value) hyperparameterChanges[name] = [inherited[name] ?? null, value];
  }

  const channels: Channel[] = (['train', 'validation'] as const).map((name) => trainingChannel(name, channelSource(dataset, name), config.dataset.channels));
  if (champion) {
    // Incremental training: the champion's artifact arrives as the `model` channel.
    channels.push({
      ChannelName: 'model',
      ContentType: 'application/x-sagemaker-model',
      InputMode: 'File',
      CompressionType: 'None',
      DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: champion.modelDataUrl, S3DataDistributionType: 'FullyReplicated' } },
    });
  }
  // Attempts that resume share the run's checkpoint prefix, so a later attempt picks up where a stopped
  // one left off; the first attempt and any that start afresh get their own.
  const runCheckpoints = config.training.checkpointS3Uri
    ? s3Join(config.training.checkpointS3Uri, config.model, sageMakerName({ model: config.model, kind: 'train', workflowId, runId }))
    : undefined;
  const checkpointS3Uri = runCheckpoints && (input.attempt === 1 || input.resumeFromCheckpoint ? runCheckpoints : s3Join(runCheckpoints, `attempt-${input.attempt}`));
  const t = config.training;

  const request: CreateTrainingJobCommandInput = {
    TrainingJobName: jobName,
    RoleArn: config.roleArn,
    AlgorithmSpecification: {
      TrainingImage: config.training.image,
      // The data channels' mode; the model channel sets File for itself.
      TrainingInputMode: config.dataset.channels.inputMode,
      ...(config.training.metricDefinitions.length ? { MetricDefinitions: config.training.metricDefinitions } : {}),
    },
    HyperParameters: hyperparameters,
    InputDataConfig: channels,
    OutputDataConfig: { S3OutputPath: t.outputS3Uri, ...(t.outputKmsKeyId ? { KmsKeyId: t.outputKmsKeyId } : {}) },
    ResourceConfig: {
      InstanceType: input.instanceType as never,
      InstanceCount: t.instanceCount,
      VolumeSizeInGB: t.volumeSizeInGB,
      ...(t.volumeKmsKeyId ? { VolumeKmsKeyId: t.volumeKmsKeyId } : {}),
    },
    StoppingCondition: { MaxRuntimeInSeconds: t.maxRuntimeInSeconds, ...(t.managedSpot ? { MaxWaitTimeInSeconds: t.managedSpot.maxWaitTimeInSeconds } : {}) },
    ...(t.managedSpot ? { EnableManagedSpotTraining: true } : {}),
    ...(checkpointS3Uri ? { CheckpointConfig: { S3Uri: checkpointS3Uri } } : {}),
    ...(t.vpcConfig ? { VpcConfig: { SecurityGroupIds: t.vpcConfig.securityGroupIds, Subnets: t.vpcConfig.subnets } } : {}),
    EnableNetworkIsolation: t.enableNetworkIsolation,
    EnableInterContainerTrafficEncryption: t.enableInterContainerTrafficEncryption,
    ...(Object.keys(t.environment).length ? { Environment: t.environment } : {}),
    ...(t.retryStrategy ? { RetryStrategy: { MaximumRetryAttempts: t.retryStrategy.maximumRetryAttempts } } : {}),
    Tags: [
      ...Object.entries(t.tags).map(([Key, Value]) => ({ Key, Value })),
      // These route SageMaker's state-change events back to this run.
      ...runTags({ model: config.model, workflowId, runId, datasetVersion: dataset.versionId }),
    ],
  };

  const reattached = await createOnce({
    describe: () => sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: jobName })),
    create: () => sagemaker.send(new CreateTrainingJobCommand(request)),
  });
  if (reattached) Context.current().log.info('training job already exists: attaching to it instead of starting another', { jobName });
  return {
    jobName,
    attempt: input.attempt,
    instanceType: input.instanceType,
    resumedFromCheckpoint: input.resumeFromCheckpoint,
    incrementalFrom: champion?.modelDataUrl ?? null,
    hyperparameters,
    hyperparameterChanges,
    reattached,
  };
}

const isFinished = (j: DescribeTrainingJobCommandOutput) => j.TrainingJobStatus === 'Completed' || j.TrainingJobStatus === 'Failed' || j.TrainingJobStatus === 'Stopped';

/** Waits for the job to end, heartbeating its progress; cancelling the run stops the job first. */
export async function awaitTraining(sagemaker: SageMakerClient, polling: JobPolling, start: TrainingStart): Promise<TrainingOutcome> {
  const { jobName } = start;
  const job = await waitForSageMaker({
    describe: () => sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: jobName })),
    isFinished,
    // A spot interruption shows here as SecondaryStatus Interrupted, then Training again: progress, not failure.
    progress: (j) => ({ jobName, status: j.TrainingJobStatus, secondaryStatus: j.SecondaryStatus, message: j.SecondaryStatusTransitions?.at(-1)?.StatusMessage }),
    stop: () => stopTrainingJob(sagemaker, jobName),
    polling,
  });
  return outcome(job, start);
}

/** One look at the job: its outcome if it has ended (an event said so), otherwise null. */
export async function checkTraining(sagemaker: SageMakerClient, start: TrainingStart): Promise<TrainingOutcome | null> {
  const job = await sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: start.jobName }));
  return isFinished(job) ? outcome(job, start) : null;
}

/** Stops the job unless it has already ended; safe to call any number of times. */
export async function stopTraining(sagemaker: SageMakerClient, jobName: string): Promise<void> {
  await stopTrainingJob(sagemaker, jobName);
}

function stopTrainingJob(sagemaker: SageMakerClient, jobName: string): Promise<void> {
  return stopUnlessEnded(() => sagemaker.send(new StopTrainingJobCommand({ TrainingJobName: jobName })));
}

async function championHyperparameters(sagemaker: SageMakerClient, trainingJobName: string): Promise<Record<string, string>> {
  try {
    const job = await sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: trainingJobName }));
    return job.HyperParameters ?? {};
  } catch (err) {
    // Training jobs age out of SageMaker's list; the config's hyperparameters still apply.
    if (isNotFound(err)) return {};
    throw err;
  }
}

function outcome(job: DescribeTrainingJobCommandOutput, start: TrainingStart): TrainingOutcome {
  const status = job.TrainingJobStatus as TrainingOutcome['status'];
  const ended = classifyJobEnd({ status, secondaryStatus: job.SecondaryStatus, failureReason: job.FailureReason });
  return {
    jobName: start.jobName,
    attempt: start.attempt,
    status,
    secondaryStatus: job.SecondaryStatus ?? '',
    ...(job.FailureReason ? { failureReason: job.FailureReason } : {}),
    ...(ended !== 'completed' ? { failureClass: ended } : {}),
    ...(job.ModelArtifacts?.S3ModelArtifacts ? { modelDataUrl: job.ModelArtifacts.S3ModelArtifacts } : {}),
    finalMetrics: Object.fromEntries((job.FinalMetricDataList ?? []).map((m) => [m.MetricName!, m.Value!])),
    incrementalFrom: start.incrementalFrom,
    resumedFromCheckpoint: start.resumedFromCheckpoint,
    hyperparameters: start.hyperparameters,
    hyperparameterChanges: start.hyperparameterChanges,
    reattached: start.reattached,
    sageMakerSeconds: seconds(job.CreationTime, job.TrainingEndTime ?? job.LastModifiedTime),
  };
}

/**
 * What a split's channel reads: as the version recorded it, or for a version from before channel
 * sources were recorded, every object under the split's "directory" (s3://b/v/train/data.csv → s3://b/v/train/).
 */
function channelSource(dataset: DatasetVersionSummary, split: 'train' | 'validation'): ChannelSource {
  const recorded = dataset.channelSources?.[split];
  if (recorded) return recorded;
  const uri = dataset.channels[split];
  return { s3DataType: 'S3Prefix', s3Uri: uri.slice(0, uri.lastIndexOf('/') + 1), contentType: 'text/csv', compression: 'None', objects: 1 };
}
