// Package root: the plugin, the activities and the config schema. Workflows live in ./workflows.
export { SageMakerRetrainingPlugin, type SageMakerRetrainingPluginOptions } from './plugin';
export { createRetrainingActivities, type RetrainingActivities, type RetrainingDependencies } from './activities';
export * from './domain/config';
export { startEventReceiver, deliverSageMakerEvent, createSageMakerEventHandler, type DeliveryOptions, type EventReceiverOptions } from './receiver/sagemaker-events';
export const DEFAULT_TASK_QUEUE = 'sagemaker-retraining';
