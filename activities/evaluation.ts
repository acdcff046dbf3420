// Evaluation stage: a processing job scores candidate and champion on the dataset version's fixed holdout.
// Like training, it is started once (the name derives from the run), then waited on by a poll that
// SageMaker's state-change event can overtake, and stopped if the run is cancelled.
import { ApplicationFailure, Context } from '@temporalio/activity';
import {
  CreateProcessingJobCommand,
  DescribeProcessingJobCommand,
  StopProcessingJobCommand,
  type CreateProcessingJobCommandInput,
  type DescribeProcessingJobCommandOutput,
  type ProcessingInput,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import type { S3Client } from '@aws-sdk/client-s3';
import { bootstrapConfidence, type MetricName, type PipelineConfig } from '../domain/config';
import { sliceArgument, sliceColumns } from '../domain/evaluation-slices';
import type { Metrics, PairedStatistics, SliceMetrics } from '../domain/gate';
import { runTags } from '../domain/sagemaker-events';
import { processingInput, processingJobEnded, processingJobFailure } from './processing-jobs';
import { createOnce, currentRun, seconds, stopUnlessEnded, waitForSageMaker, type JobPolling } from './sagemaker-jobs';
import { getJson, s3Join } from './s3-objects';
import type { Champion, DatasetVersionSummary, EvaluationOutcome, TrainingOutcome } from './types';

export interface EvaluateCandidateInput {
  config: PipelineConfig;
  candidate: TrainingOutcome;
  champion: Champion | null;
  dataset: DatasetVersionSummary;
  jobName: string;
}

/** What the evaluation container writes to evaluation.json (docs/gate.md); reports from before slices lack the last three. */
interface EvaluationReport {
  holdout_rows: number;
  summary: { candidate: Metrics; champion: Metrics | null };
  slices?: { feature: string; slice: string; name: string; rows: number; candidate: Metrics | null; champion: Metrics | null }[];
  paired?: {
    rows: number;
    mcnemar: { candidate_only_correct: number; champion_only_correct: number } | null;
    bootstrap: {
      metric: MetricName;
      observed_improvement: number;
      lower: number;
      upper: number;
      confidence: number;
      resamples: number;
      usable_resamples: number;
      seed: number;
    } | null;
  } | null;
  predictions?: string;
}

export const PREDICTIONS_FILE = 'holdout-predictions.jsonl';

const PROCESSING = '/opt/ml/processing';

/** What starting the evaluation settled: waiting and checking work from this. */
export interface EvaluationStart {
  jobName: string;
  /** Where the job writes evaluation.json and the model-quality statistics. */
  outputUri: string;
  /** True when the job already existed (a retry, or a restarted worker) and was attached to, not created. */
  reattached: boolean;
  /** The candidate training job's final metrics, carried to the outcome for reporting. */
  trainingMetrics?: Record<string, number>;
}

/** Creates the evaluation processing job unless it exists. Short: waiting is awaitEvaluation's job. */
export async function startEvaluation(sagemaker: SageMakerClient, input: EvaluateCandidateInput): Promise<EvaluationStart> {
  const { config, candidate, champion, dataset, jobName } = input;
  const { workflowId, runId } = currentRun();
  if (!candidate.modelDataUrl) throw ApplicationFailure.nonRetryable(`training job ${candidate.jobName} produced no model artifact`, 'ClientError');
  const outputUri = s3Join(config.evaluation.outputS3Uri, config.model, jobName);
  const inputs: ProcessingInput[] = [
    processingInput('candidate', candidate.modelDataUrl, 'S3Prefix', `${PROCESSING}/input/candidate`),
    processingInput('holdout', dataset.channels.holdout.slice(0, dataset.channels.holdout.lastIndexOf('/') + 1), 'S3Prefix', `${PROCESSING}/input/holdout`),
  ];
  if (champion) inputs.push(processingInput('champion', champion.modelDataUrl, 'S3Prefix', `${PROCESSING}/input/champion`));
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
        `--metric=${config.evaluation.metric}`,
        ...evaluationSlices(config).map(sliceArgument),
        `--max-slice-values=${config.evaluation.maxSliceValues}`,
        `--bootstrap-resamples=${config.evaluation.bootstrap.resamples}`,
        `--bootstrap-seed=${config.evaluation.bootstrap.seed}`,
        `--confidence=${bootstrapConfidence(config.gate)}`,
      ],
    },
    ProcessingInputs: inputs,
    ProcessingOutputConfig: {
      Outputs: [{ OutputName: 'evaluation', S3Output: { S3Uri: outputUri, LocalPath: `${PROCESSING}/output/evaluation`, S3UploadMode: 'EndOfJob' } }],
    },
    ProcessingResources: { ClusterConfig: { InstanceCount: 1, InstanceType: config.evaluation.instanceType as never, VolumeSizeInGB: 10 } },
    StoppingCondition: { MaxRuntimeInSeconds: config.evaluation.maxRuntimeInSeconds },
    // These route SageMaker's state-change events back to this run. The processing event carries no
    // tags, so the receiver reads them with ListTags (domain/sagemaker-events.ts).
    Tags: runTags({ model: config.model, workflowId, runId, datasetVersion: dataset.versionId }),
  };

  const reattached = await createOnce({
    describe: () => sagemaker.send(new DescribeProcessingJobCommand({ ProcessingJobName: jobName })),
    create: () => sagemaker.send(new CreateProcessingJobCommand(request)),
  });
  if (reattached) Context.current().log.info('evaluation job already exists: attaching to it instead of starting another', { jobName });
  return { jobName, outputUri, reattached, trainingMetrics: candidate.finalMetrics };
}

/** Waits for the job to end, heartbeating its progress; cancelling the run stops the job first. */
export async function awaitEvaluation(sagemaker: SageMakerClient, s3: S3Client, polling: JobPolling, start: EvaluationStart): Promise<EvaluationOutcome> {
  const { jobName } = start;
  const job = await waitForSageMaker({
    describe: () => sagemaker.send(new DescribeProcessingJobCommand({ ProcessingJobName: jobName })),
    isFinished: processingJobEnded,
    progress: (j) => ({ jobName, status: j.ProcessingJobStatus }),
    stop: () => stopEvaluation(sagemaker, jobName),
    polling,
  });
  return outcome(s3, job, start);
}

/** One look at the job: its outcome if it has ended (an event said so), otherwise null. */
export async function checkEvaluation(sagemaker: SageMakerClient, s3: S3Client, start: EvaluationStart): Promise<EvaluationOutcome | null> {
  const job = await sagemaker.send(new DescribeProcessingJobCommand({ ProcessingJobName: start.jobName }));
  return processingJobEnded(job) ? outcome(s3, job, start) : null;
}

/** Stops the job unless it has already ended; safe to call any number of times. */
export function stopEvaluation(sagemaker: SageMakerClient, jobName: string): Promise<void> {
  return stopUnlessEnded(() => sagemaker.send(new StopProcessingJobCommand({ ProcessingJobName: jobName })));
}

/** The scores of an ended job, or the failure that says why there are none. */
async function outcome(s3: S3Client, job: DescribeProcessingJobCommandOutput, start: EvaluationStart): Promise<EvaluationOutcome> {
  const { jobName, outputUri } = start;
  if (job.ProcessingJobStatus !== 'Completed') throw processingJobFailure('evaluation job', jobName, job, 'EvaluationFailed');
  const reportUri = s3Join(outputUri, 'evaluation.json');
  const report = await getJson<EvaluationReport>(s3, reportUri);
  return {
    jobName,
    reportUri,
    candidateStatisticsUri: s3Join(outputUri, 'candidate-metrics.json'),
    candidate: report.summary.candidate,
    champion: report.summary.champion,
    holdoutRows: report.holdout_rows,
    slices: (report.slices ?? []).map(sliceMetrics),
    paired: report.paired ? pairedStatistics(report.paired) : null,
    predictionsUri: s3Join(outputUri, report.predictions ?? PREDICTIONS_FILE),
    trainingMetrics: start.trainingMetrics ?? {},
    reattached: start.reattached,
    sageMakerSeconds: seconds(job.CreationTime, job.ProcessingEndTime ?? job.LastModifiedTime),
  };
}

/** The configured slices with their columns; the config's validation already refused unknown features. */
function evaluationSlices(config: PipelineConfig) {
  try {
    return sliceColumns(config.evaluation.slices, config.dataset.schema);
  } catch (err) {
    throw ApplicationFailure.nonRetryable(`evaluation.slices: ${(err as Error).message}`, 'InvalidConfig');
  }
}

function sliceMetrics(s: NonNullable<EvaluationReport['slices']>[number]): SliceMetrics {
  return { feature: s.feature, slice: s.slice, name: s.name, rows: s.rows, candidate: s.candidate, champion: s.champion };
}

function pairedStatistics(p: NonNullable<EvaluationReport['paired']>): PairedStatistics {
  const b = p.bootstrap;
  return {
    rows: p.rows,
    discordantPairs: p.mcnemar ? { candidateOnlyCorrect: p.mcnemar.candidate_only_correct, championOnlyCorrect: p.mcnemar.champion_only_correct } : null,
    bootstrap: b
      ? { metric: b.metric, observed: b.observed_improvement, lower: b.lower, upper: b.upper, confidence: b.confidence, resamples: b.resamples, usableResamples: b.usable_resamples, seed: b.seed }
      : null,
  };
}

