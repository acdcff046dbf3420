// Model Registry: one ModelPackageGroup per model; each candidate becomes a package version carrying
// its metrics and lineage. The ClientToken makes a retried create return the same package.
import {
  CreateModelPackageCommand,
  CreateModelPackageGroupCommand,
  DescribeModelPackageCommand,
  DescribeModelPackageGroupCommand,
  UpdateModelPackageCommand,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { ApplicationFailure } from '@temporalio/activity';
import type { PipelineConfig } from '../domain/config';
import type { GateDecision } from '../domain/gate';
import { LINEAGE } from './champion';
import { isAlreadyExists, isNotFound } from './sagemaker-jobs';
import type { Champion, DatasetVersionSummary, DriftSummary, EvaluationOutcome, RegisteredCandidate, TrainingOutcome } from './types';

export interface RegisterCandidateInput {
  config: PipelineConfig;
  candidate: TrainingOutcome;
  dataset: DatasetVersionSummary;
  drift: DriftSummary;
  evaluation: EvaluationOutcome;
  gate: GateDecision;
  clientToken: string;
  /** The champion the candidate would replace, recorded so a rollback knows where to go back to. */
  champion?: Champion | null;
  /** Default: Approved when the gate promotes, Rejected otherwise. PendingManualApproval when a person decides. */
  approvalStatus?: ModelApprovalStatus;
}

export type ModelApprovalStatus = 'Approved' | 'Rejected' | 'PendingManualApproval';

export async function registerCandidate(sagemaker: SageMakerClient, input: RegisterCandidateInput & { workflowId: string; runId: string }): Promise<RegisteredCandidate> {
  const { config, candidate, dataset, drift, evaluation, gate } = input;
  await ensureGroup(sagemaker, config.model);
  const approvalStatus = input.approvalStatus ?? (gate.decision === 'promote' ? 'Approved' : 'Rejected');
  const created = await sagemaker.send(
    new CreateModelPackageCommand({
      ModelPackageGroupName: config.model,
      ClientToken: input.clientToken,
      ModelPackageDescription: `${config.model} trained by ${candidate.jobName} on dataset version ${dataset.versionId}`,
      InferenceSpecification: {
        Containers: [{ Image: config.training.image, ModelDataUrl: candidate.modelDataUrl }],
        SupportedContentTypes: ['text/csv', 'application/json'],
        SupportedResponseMIMETypes: ['application/json'],
        SupportedRealtimeInferenceInstanceTypes: [config.endpoint.instanceType as never],
      },
      ModelMetrics: { ModelQuality: { Statistics: { ContentType: 'application/json', S3Uri: evaluation.candidateStatisticsUri } } },
      CustomerMetadataProperties: {
        [LINEAGE.datasetVersion]: dataset.versionId,
        [LINEAGE.datasetManifestUri]: dataset.manifestUri,
        [LINEAGE.trainingJobName]: candidate.jobName,
        [LINEAGE.evaluationReportUri]: evaluation.reportUri,
        ...(drift.reportUri ? { [LINEAGE.driftReportUri]: drift.reportUri } : {}),
        [LINEAGE.workflowId]: input.workflowId,
        [LINEAGE.runId]: input.runId,
        ...(input.champion ? { [LINEAGE.previousModelPackageArn]: input.champion.modelPackageArn } : {}),
      },
      ModelApprovalStatus: approvalStatus,
    }),
  );
  const arn = created.ModelPackageArn!;
  // The gate's reasons go on the package, where a reviewer in the registry looks for them. A retry after
  // the reviewer has already decided must not undo the decision, so a pending package is only described.
  const described = await sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: arn }));
  const decidedMeanwhile = approvalStatus === 'PendingManualApproval' && described.ModelApprovalStatus !== 'PendingManualApproval';
  if (!decidedMeanwhile) {
    const awaiting = approvalStatus === 'PendingManualApproval' ? ' Awaiting manual approval.' : '';
    await sagemaker.send(
      new UpdateModelPackageCommand({ ModelPackageArn: arn, ModelApprovalStatus: approvalStatus, ApprovalDescription: truncate(`gate: ${gate.reasons.join(' ')}${awaiting}`, 1000) }),
    );
  }
  return { modelPackageArn: arn, version: described.ModelPackageVersion ?? 0, approvalStatus: decidedMeanwhile ? (described.ModelApprovalStatus as ModelApprovalStatus) : approvalStatus };
}

export interface PackageApproval {
  modelPackageArn: string;
  approvalStatus: ModelApprovalStatus;
  approvalDescription: string | null;
}

/** The package's approval status as the registry has it now (an event only says it changed at some point). */
export async function readApproval(sagemaker: SageMakerClient, modelPackageArn: string): Promise<PackageApproval> {
  const described = await sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: modelPackageArn }));
  return {
    modelPackageArn,
    approvalStatus: (described.ModelApprovalStatus ?? 'PendingManualApproval') as ModelApprovalStatus,
    approvalDescription: described.ApprovalDescription ?? null,
  };
}

/** Writes a person's (or the timeout's) decision on the package: its ModelApprovalStatus and ApprovalDescription. */
export async function recordApproval(sagemaker: SageMakerClient, input: { modelPackageArn: string; approvalStatus: 'Approved' | 'Rejected'; description: string }): Promise<PackageApproval> {
  await sagemaker.send(
    new UpdateModelPackageCommand({ ModelPackageArn: input.modelPackageArn, ModelApprovalStatus: input.approvalStatus, ApprovalDescription: truncate(input.description, 1000) }),
  );
  return { modelPackageArn: input.modelPackageArn, approvalStatus: input.approvalStatus, approvalDescription: truncate(input.description, 1000) };
}

async function ensureGroup(sagemaker: SageMakerClient, group: string): Promise<void> {
  try {
    await sagemaker.send(new DescribeModelPackageGroupCommand({ ModelPackageGroupName: group }));
    return;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  try {
    await sagemaker.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: group, ModelPackageGroupDescription: `Models of ${group}, kept fresh by the retraining pipeline` }));
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export interface RollbackTarget {
  modelPackageArn: string;
  version: number;
  approvalStatus: ModelApprovalStatus;
  /** Why this package: named by the operator, or the champion's recorded predecessor. */
  chosenBy: 'operator' | 'lineage';
}

/**
 * The package a rollback puts back: the one the operator names, or the one the serving champion was
 * registered to replace (its PreviousModelPackageArn). It must be a package of the model's group that
 * is not serving now and was not rejected; anything else fails for good, saying which.
 */
export async function rollbackTarget(
  sagemaker: SageMakerClient,
  input: { config: PipelineConfig; champion: Champion; toModelPackageArn?: string },
): Promise<RollbackTarget> {
  const { config, champion } = input;
  let arn = input.toModelPackageArn;
  let chosenBy: RollbackTarget['chosenBy'] = 'operator';
  if (!arn) {
    const serving = await sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: champion.modelPackageArn }));
    arn = serving.CustomerMetadataProperties?.[LINEAGE.previousModelPackageArn];
    chosenBy = 'lineage';
    if (!arn) {
      throw ApplicationFailure.nonRetryable(
        `model package ${champion.modelPackageArn} (serving on ${config.endpoint.name}) records no ${LINEAGE.previousModelPackageArn}: it was the first model, or was not registered by this pipeline; name the package to roll back to`,
        'RollbackTargetInvalid',
      );
    }
  }
  if (arn === champion.modelPackageArn) {
    throw ApplicationFailure.nonRetryable(`model package ${arn} is already serving on ${config.endpoint.name}; there is nothing to roll back`, 'RollbackTargetInvalid');
  }
  let target;
  try {
    target = await sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: arn }));
  } catch (err) {
    if (isNotFound(err)) throw ApplicationFailure.nonRetryable(`model package ${arn} does not exist, so it cannot be rolled back to`, 'RollbackTargetInvalid');
    throw err;
  }
  if (target.ModelPackageGroupName !== config.model) {
    throw ApplicationFailure.nonRetryable(`model package ${arn} belongs to group ${target.ModelPackageGroupName ?? '(none)'}, not ${config.model}`, 'RollbackTargetInvalid');
  }
  if (target.ModelApprovalStatus === 'Rejected') {
    throw ApplicationFailure.nonRetryable(
      `model package ${arn} is Rejected${target.ApprovalDescription ? ` (${target.ApprovalDescription})` : ''}; approve it in the registry first if it should serve again`,
      'RollbackTargetInvalid',
    );
  }
  return { modelPackageArn: arn, version: target.ModelPackageVersion ?? 0, approvalStatus: (target.ModelApprovalStatus ?? 'PendingManualApproval') as ModelApprovalStatus, chosenBy };
}
