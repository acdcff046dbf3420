// Activities: thin adapters between the workflow and AWS. Built by a factory that closes over the
// injected clients, so tests and local mode pass the same real clients aimed at other endpoints.
import { currentRun } from './sagemaker-jobs';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { PipelineConfig } from '../domain/config';
import { classifyingAwsErrors } from './aws-failures';
import { SageMakerCallBudget, spendCallBudget } from './sagemaker-call-budget';
import { DEFAULT_JOB_POLLING, type JobPolling } from './sagemaker-jobs';
import { resolveChampion } from './champion';
import {
  deployCandidate,
  rollbackEndpoint,
  smokeTestCandidate,
  verifyServing,
  type DeployCandidateInput,
  type RollbackEndpointInput,
  type SmokeTestInput,
  type VerifyServingInput,
} from './deployment';
import { detectDrift, type DetectDriftInput } from './drift';
import { expandDataset, type ExpandDatasetInput } from './dataset';
import { awaitEvaluation, checkEvaluation, startEvaluation, stopEvaluation, type EvaluateCandidateInput, type EvaluationStart } from './evaluation';
import { readApproval, recordApproval, registerCandidate, rollbackTarget, type RegisterCandidateInput } from './registry';
import { awaitTraining, checkTraining, startTraining, stopTraining, type TrainCandidateInput, type TrainingStart } from './training';

export interface RetrainingDependencies {
  sagemaker: SageMakerClient;
  s3: S3Client;
  runtime: SageMakerRuntimeClient;
  /** How a waiting activity polls SageMaker for a job's or endpoint's status. Default: 1 s, doubling to 10 minutes. */
  jobPolling?: Partial<JobPolling>;
  /**
   * SageMaker control-plane calls per second for this worker, shared by all its activities. The plugin
   * adds a middleware to the SageMaker client you pass, so every call waits its turn. Default 10.
   */
  sageMakerCallsPerSecond?: number;
}

export function createRetrainingActivities(deps: RetrainingDependencies) {
  const { sagemaker, s3, runtime } = deps;
  const poll: JobPolling = { ...DEFAULT_JOB_POLLING, ...deps.jobPolling };
  spendCallBudget(sagemaker, new SageMakerCallBudget(deps.sageMakerCallsPerSecond ?? 10));
  return classifyingAwsErrors({
    resolveChampion: ({ config }: { config: PipelineConfig }) => resolveChampion(sagemaker, config),
    detectDrift: (input: DetectDriftInput) => detectDrift(s3, input, { sagemaker, polling: poll }),
    expandDataset: (input: ExpandDatasetInput) => expandDataset(s3, input, { sagemaker, polling: poll }),
    startTraining: (input: TrainCandidateInput) => startTraining(sagemaker, input),
    awaitTraining: (start: TrainingStart) => awaitTraining(sagemaker, poll, start),
    checkTraining: (start: TrainingStart) => checkTraining(sagemaker, start),
    stopTraining: ({ jobName }: { jobName: string }) => stopTraining(sagemaker, jobName),
    startEvaluation: (input: EvaluateCandidateInput) => startEvaluation(sagemaker, input),
    awaitEvaluation: (start: EvaluationStart) => awaitEvaluation(sagemaker, s3, poll, start),
    checkEvaluation: (start: EvaluationStart) => checkEvaluation(sagemaker, s3, start),
    stopEvaluation: ({ jobName }: { jobName: string }) => stopEvaluation(sagemaker, jobName),
    registerCandidate: (input: RegisterCandidateInput) => {
      const { workflowId, runId } = currentRun();
      return registerCandidate(sagemaker, { ...input, workflowId, runId });
    },
    readApproval: ({ modelPackageArn }: { modelPackageArn: string }) => readApproval(sagemaker, modelPackageArn),
    recordApproval: (input: Parameters<typeof recordApproval>[1]) => recordApproval(sagemaker, input),
    rollbackTarget: (input: Parameters<typeof rollbackTarget>[1]) => rollbackTarget(sagemaker, input),
    deployCandidate: (input: DeployCandidateInput) => deployCandidate(sagemaker, poll, input),
    verifyServing: (input: VerifyServingInput) => verifyServing(runtime, s3, input),
    smokeTestCandidate: (input: SmokeTestInput) => smokeTestCandidate({ sagemaker, runtime, s3 }, poll, input),
    rollbackEndpoint: (input: RollbackEndpointInput) => rollbackEndpoint(sagemaker, poll, input),
  });
}

export type RetrainingActivities = ReturnType<typeof createRetrainingActivities>;
export type * from './types';
export type { TrainingStart } from './training';
export type { EvaluateCandidateInput, EvaluationStart } from './evaluation';
export type { DeployCandidateInput, RollbackEndpointInput, SmokeTestInput } from './deployment';
