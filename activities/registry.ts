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
import type { PipelineConfig } from '../domain/config';
import type { GateDecision } from '../domain/gate';
import { LINEAGE } from './champion';
import { isAlreadyExists, isNotFound } from './sagemaker-jobs';
import type { DatasetVersionSummary, DriftSummary, EvaluationOutcome, RegisteredCandidate, TrainingOutcome } from './types';

export interface RegisterCandidateInput {
  config: PipelineConfig;
  candidate: TrainingOutcome;
  dataset: DatasetVersionSummary;
  drift: DriftSummary;
  evaluation: EvaluationOutcome;
  gate: GateDecision;
  clientToken: string;
}

export async function registerCandidate(sagemaker: SageMakerClient, input: RegisterCandidateInput & { workflowId: string; runId: string }): Promise<RegisteredCandidate> {
  const { config, candidate, dataset, drift, evaluation, gate } = input;
  await ensureGroup(sagemaker, config.model);
  const approvalStatus = gate.decision === 'promote' ? 'Approved' : 'Rejected';
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
      },
      ModelApprovalStatus: approvalStatus,
    }),
  );
  const arn = created.ModelPackageArn!;
  // The gate's reasons go on the package, where a reviewer in the registry looks for them.
  await sagemaker.send(
    new UpdateModelPackageCommand({ ModelPackageArn: arn, ModelApprovalStatus: approvalStatus, ApprovalDescription: truncate(`gate: ${gate.reasons.join(' ')}`, 1000) }),
  );
  const described = await sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: arn }));
  return { modelPackageArn: arn, version: described.ModelPackageVersion ?? 0, approvalStatus };
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
