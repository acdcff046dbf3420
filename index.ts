// Package root: the plugin, the activities and the config schema. Workflows live in ./workflows.
export { SageMakerRetrainingPlugin, type SageMakerRetrainingPluginOptions } from './plugin';
export { createRetrainingActivities, type RetrainingActivities, type RetrainingDependencies } from './activities';
export * from './domain/config';
export {
  startEventReceiver,
  deliverEvent,
  deliverSageMakerEvent,
  createEventHandler,
  createSageMakerEventHandler,
  type DeliveryOptions,
  type DeliveryResult,
  type EventOptions,
  type EventReceiver,
  type EventReceiverOptions,
} from './receiver/sagemaker-events';
export type { AlertOptions } from './receiver/alerts';
export { AlertRoutingSchema, parseAlertRouting, routeAlert, type AlertRouting, type AlertRoutingInput } from './domain/alert-routing';
export { readAlert, type Alert, type AlertRecord } from './domain/alerts';
export { authenticateRequest, signRequest, type ReceiverAuthentication } from './receiver/authentication';
export const DEFAULT_TASK_QUEUE = 'sagemaker-retraining';
