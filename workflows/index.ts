// The sandbox-safe entry. A TypeScript plugin cannot inject workflows, so users re-export this
// from their own workflows module:  export * from 'temporal-sagemaker-retraining/workflows';
export { alertReceived, approveUpdate, modelPackageStateChanged, processingJobStateChanged, rejectUpdate, retrainingPipeline, statusQuery, trainingJobStateChanged } from './retraining';
export type { RetrainingInput, RetrainingOutcome, RetrainingStatus, Decision, Stage, Trigger, ReceivedAlert, PreviousRun } from './retraining';
export type { AlertRecord } from '../domain/alerts';
export { rollbackModel, rollbackStatusQuery } from './rollback';
export type { RollbackInput, RollbackOutcome, RollbackStatus, RollbackStage } from './rollback';
export { scheduledRetraining } from './scheduled-retraining';
export type { ScheduledRetrainingInput, ScheduledRetrainingOutcome } from './scheduled-retraining';
export * from './search-attributes';
