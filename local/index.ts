// Local mode: a real Temporal dev server, S3 (s3rver) and a local SageMaker that speaks SageMaker's wire protocol.
export { startLocalStack, type LocalStack, type LocalStackOptions } from './stack';
export { startLocalTemporal, ensureTemporalCli, type LocalTemporal } from './temporal';
export { startLocalS3, LOCAL_S3_CREDENTIALS } from './s3';
export { startLocalSageMaker } from './sagemaker';
