// The plugin: hands the worker the retraining activities, built around the AWS clients you inject.
// Workflows cannot be injected by a TypeScript plugin: re-export them from your workflows module
// (`export * from 'temporal-sagemaker-retraining/workflows'`).
import { SimplePlugin } from '@temporalio/plugin';
import type { WorkerOptions } from '@temporalio/worker';
import { createRetrainingActivities, type RetrainingDependencies } from './activities';

export type SageMakerRetrainingPluginOptions = RetrainingDependencies;

/**
 * Activity slots the plugin asks for when you set none. Each running training job or endpoint update
 * holds one slot for its whole wait, mostly asleep between polls, so the SDK's default of 100 would
 * cap a worker at about 100 pipelines in training and leave the short calls queued behind the waits.
 */
export const DEFAULT_ACTIVITY_SLOTS = 2000;

export class SageMakerRetrainingPlugin extends SimplePlugin {
  constructor(options: SageMakerRetrainingPluginOptions) {
    super({
      name: 'sagemaker-retraining',
      activities: createRetrainingActivities(options),
    });
  }

  override configureWorker(options: WorkerOptions): WorkerOptions {
    const configured = super.configureWorker(options);
    if (configured.maxConcurrentActivityTaskExecutions !== undefined || configured.tuner !== undefined) return configured;
    return { ...configured, maxConcurrentActivityTaskExecutions: DEFAULT_ACTIVITY_SLOTS };
  }
}
