// Evaluation stage: a processing job scores candidate and champion on the dataset version's fixed holdout.
import { ApplicationFailure } from '@temporalio/activity';
import {
  CreateProcessingJobCommand,
  DescribeProcessingJobCommand,
  StopProcessingJobCommand,
  type CreateProcessingJobCommandInput,
  type ProcessingInput,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import type { S3Client } from '@aws-sdk/client-s3';
import type { PipelineConfig } from '../domain/config';
import type { Metrics } from '../domain/gate';
import { isAlreadyExists, isNotFound, seconds, waitForSageMaker, type JobPolling } from './sagemaker-jobs';
import { getJson, s3Join } from './s3-objects';
import type { Champion, DatasetVersionSummary, EvaluationOutcome, TrainingOutcome } from './types';

export interface EvaluateCandidateInput {
  config: PipelineConfig;
  candidate: TrainingOutcome;
  champion: Champion | null;
  dataset: DatasetVersionSummary;
  jobName: string;
}

/** What the evaluation container writes to evaluation.json (see docs/algorithms.md). */
interface EvaluationReport {
  holdout_rows: number;
  summary: { candidate: Metrics; champion: Metrics | null };
}

const PROCESSING = '/opt/ml/processing';

export async function evaluateCandidate(sagemaker: SageMakerClient, s3: S3Client, polling: JobPolling, input: EvaluateCandidateInput): Promise<EvaluationOutcome> {
  const { config, candidate, champion, dataset, jobName } = input;
  if (!candidate.modelDataUrl) throw ApplicationFailure.nonRetryable(`training job ${candidate.jobName} produced no model artifact`, 'ClientError');
  const outputUri = s3Join(config.evaluation.outputS3Uri, config.model, jobName);
  const inputs: ProcessingInput[] = [
    s3Input('candidate', candidate.modelDataUrl, `${PROCESSING}/input/candidate`),
    s3Input('holdout', dataset.channels.holdout.slice(0, dataset.channels.holdout.lastIndexOf('/') + 1), `${PROCESSING}/input/holdout`),
  ];
  if (champion) inputs.push(s3Input('champion', champion.modelDataUrl, `${PROCESSING}/input/champion`));
  const request: CreateProcessingJobCommandInput = {
    ProcessingJobName: jobName,
    RoleArn: config.roleArn,
    AppSpecification: {
      ImageUri: config.evaluation.image,
      ContainerArguments: [
        '--candidate', `${PROCESSING}/input/candidate`,
        ...(champion ? ['--champion', `${PROCESSING}/input/champion`] : []),
        '--holdout', `${PROCESSING}/input/holdout`,
        '--output', `${PROCESSING}/output/evaluation`,
      ],
    },
    ProcessingInputs: inputs,
    ProcessingOutputConfig: {
      Outputs: [{ OutputName: 'evaluation', S3Output: { S3Uri: outputUri, LocalPath: `${PROCESSING}/output/evaluation`, S3UploadMode: 'EndOfJob' } }],
    },
    ProcessingResources: { ClusterConfig: { InstanceCount: 1, InstanceType: config.evaluation.instanceType as never, VolumeSizeInGB: 10 } },
    StoppingCondition: { MaxRuntimeInSeconds: 3600 },
    Tags: [{ Key: 'retraining:model', Value: config.model }],
  };

  try {
    await sagemaker.send(new DescribeProcessingJobCommand({ ProcessingJobName: jobName }));
  } catch (err) {
    if (!isNotFound(err)) throw err;
    try {
      await sagemaker.send(new CreateProcessingJobCommand(request));
    } catch (createErr) {
      if (!isAlreadyExists(createErr)) throw createErr;
    }
  }

  const job = await waitForSageMaker({
    describe: () => sagemaker.send(new DescribeProcessingJobCommand({ ProcessingJobName: jobName })),
    isFinished: (j) => j.ProcessingJobStatus === 'Completed' || j.ProcessingJobStatus === 'Failed' || j.ProcessingJobStatus === 'Stopped',
    progress: (j) => ({ jobName, status: j.ProcessingJobStatus }),
    stop: async () => {
      try {
        await sagemaker.send(new StopProcessingJobCommand({ ProcessingJobName: jobName }));
      } catch (err) {
        if ((err as { name?: string }).name !== 'ValidationException') throw err;
      }
    },
    polling,
  });
  if (job.ProcessingJobStatus !== 'Completed') {
    // A processing container explains itself in ExitMessage; FailureReason is often only "See job logs".
    const reason = [job.FailureReason, job.ExitMessage].filter(Boolean).join(' — ') || job.ProcessingJobStatus;
    const clientError = /^ClientError/.test(job.ExitMessage ?? '') || /^ClientError/.test(job.FailureReason ?? '');
    throw ApplicationFailure.nonRetryable(`evaluation job ${jobName} ended ${job.ProcessingJobStatus}: ${reason}`, clientError ? 'ClientError' : 'EvaluationFailed');
  }
  const reportUri = s3Join(outputUri, 'evaluation.json');
  const report = await getJson<EvaluationReport>(s3, reportUri);
  return {
    jobName,
    reportUri,
    candidateStatisticsUri: s3Join(outputUri, 'candidate-metrics.json'),
    candidate: report.summary.candidate,
    champion: report.summary.champion,
    holdoutRows: report.holdout_rows,
    sageMakerSeconds: seconds(job.CreationTime, job.ProcessingEndTime ?? job.LastModifiedTime),
  };
}

function s3Input(name: string, uri: string, localPath: string): ProcessingInput {
  return { InputName: name, S3Input: { S3Uri: uri, LocalPath: localPath, S3DataType: 'S3Prefix', S3InputMode: 'File', S3DataDistributionType: 'FullyReplicated' } };
}
