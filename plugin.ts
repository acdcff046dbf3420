// The plugin: hands the worker the retraining activities, built around the AWS clients you inject.
// Workflows cannot be injected by a TypeScript plugin: re-export them from your workflows module
// (`export * from 'temporal-sagemaker-retraining/workflows'`).
import { SimplePlugin } from '@temporalio/plugin';
import { createRetrainingActivities, type RetrainingDependencies } from './activities';

export type SageMakerRetrainingPluginOptions = RetrainingDependencies;

export class SageMakerRetrainingPlugin extends SimplePlugin {
  constructor(options: SageMakerRetrainingPluginOptions) {
    super({
      name: 'sagemaker-retraining',
      activities: createRetrainingActivities(options),
    });
  }
}
