// Champion resolution: the Approved model package that is actually serving on the endpoint.
import { ApplicationFailure } from '@temporalio/activity';
import {
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  DescribeModelPackageCommand,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import type { PipelineConfig } from '../domain/config';
import { isNotFound } from './sagemaker-jobs';
import type { Champion } from './types';

/** Keys of CustomerMetadataProperties that carry lineage on every package the pipeline registers. */
export const LINEAGE = {
  datasetVersion: 'DatasetVersion',
  datasetManifestUri: 'DatasetManifestUri',
  trainingJobName: 'TrainingJobName',
  driftReportUri: 'DriftReportUri',
  evaluationReportUri: 'EvaluationReportUri',
  workflowId: 'WorkflowId',
  runId: 'RunId',
  /** The champion this package was registered to replace: where a rollback goes back to. */
  previousModelPackageArn: 'PreviousModelPackageArn',
} as const;

export async function resolveChampion(sagemaker: SageMakerClient, config: PipelineConfig): Promise<Champion | null> {
  let endpoint;
  try {
    endpoint = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: config.endpoint.name }));
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
  const endpointConfigName = endpoint.EndpointConfigName!;
  const endpointConfig = await sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: endpointConfigName }));
  const variants = endpointConfig.ProductionVariants ?? [];
  const variant = variants.find((v) => v.VariantName === config.endpoint.variant) ?? variants[0];
  if (!variant?.ModelName) throw ApplicationFailure.nonRetryable(`endpoint config ${endpointConfigName} has no production variant`, 'LineageMissing');
  const model = await sagemaker.send(new DescribeModelCommand({ ModelName: variant.ModelName }));
  const container = model.PrimaryContainer ?? model.Containers?.[0];
  const packageArn = container?.ModelPackageName;
  if (!packageArn) {
    throw ApplicationFailure.nonRetryable(
      `endpoint ${config.endpoint.name} serves model ${variant.ModelName}, which was not created from a model package; ` +
        `register it in model package group ${config.model} and deploy it from the package so the pipeline can find its training data`,
      'LineageMissing',
    );
  }
  const modelPackage = await sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: packageArn }));
  // The champion is an Approved package that serves; one that serves without approval (deployed by
  // hand, or rejected after its deployment) is not a baseline the pipeline may build on or replace.
  if (modelPackage.ModelApprovalStatus !== 'Approved') {
    throw ApplicationFailure.nonRetryable(
      `endpoint ${config.endpoint.name} serves model package ${packageArn}, which is ${modelPackage.ModelApprovalStatus ?? 'without an approval status'}, not Approved` +
        `${modelPackage.ApprovalDescription ? ` (${modelPackage.ApprovalDescription})` : ''}: approve it in the registry, or roll back to an Approved package`,
      'ChampionNotApproved',
    );
  }
  const spec = modelPackage.InferenceSpecification?.Containers?.[0];
  if (!spec?.ModelDataUrl) throw ApplicationFailure.nonRetryable(`model package ${packageArn} has no ModelDataUrl`, 'LineageMissing');
  const metadata = modelPackage.CustomerMetadataProperties ?? {};
  const capture = endpointConfig.DataCaptureConfig;
  return {
    modelPackageArn: packageArn,
    modelPackageVersion: modelPackage.ModelPackageVersion ?? 0,
    modelDataUrl: spec.ModelDataUrl,
    image: spec.Image ?? config.training.image,
    trainingJobName: metadata[LINEAGE.trainingJobName] ?? null,
    datasetVersion: metadata[LINEAGE.datasetVersion] ?? null,
    datasetManifestUri: metadata[LINEAGE.datasetManifestUri] ?? null,
    endpointConfigName,
    modelName: variant.ModelName,
    captureS3Uri: capture && capture.EnableCapture !== false && capture.DestinationS3Uri ? capture.DestinationS3Uri : null,
  };
}
