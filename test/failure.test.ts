import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { classifyApiError, classifyJobEnd, isRetryable, type FailureClass } from '../domain/failure';

/** The shape the AWS SDK v3 gives a service exception. */
function awsError(name: string, message: string, httpStatusCode: number, fault: 'client' | 'server' = httpStatusCode >= 500 ? 'server' : 'client') {
  return Object.assign(new Error(message), { name, $fault: fault, $metadata: { httpStatusCode, requestId: 'req-1', attempts: 1 } });
}

describe('classifyApiError', () => {
  const cases: [string, unknown, FailureClass][] = [
    ['ThrottlingException', awsError('ThrottlingException', 'Rate exceeded', 400), 'throttling'],
    ['HTTP 429 under another name', awsError('TooManyRequests', 'slow down', 429), 'throttling'],
    ['S3 SlowDown', awsError('SlowDown', 'Please reduce your request rate.', 503, 'server'), 'throttling'],
    ['ResourceLimitExceeded', awsError('ResourceLimitExceeded', 'The account-level service limit "ml.p3.2xlarge for training job usage" is 0 Instances', 400), 'quota'],
    ['ResourceInUse', awsError('ResourceInUse', 'Training job names must be unique within an AWS account and region', 400), 'conflict'],
    ['ValidationException "already existing"', awsError('ValidationException', 'Cannot create already existing model "churn-model-1a2b"', 400), 'conflict'],
    ['ResourceNotFound', awsError('ResourceNotFound', 'Model package group churn does not exist.', 400), 'not_found'],
    ['ValidationException "not found"', awsError('ValidationException', 'Requested resource not found.', 400), 'not_found'],
    ['S3 NoSuchKey', awsError('NoSuchKey', 'The specified key does not exist.', 404), 'not_found'],
    ['ValidationException', awsError('ValidationException', '1 validation error detected: Value at "trainingJobName" failed to satisfy constraint', 400), 'client_error'],
    ['AccessDenied', awsError('AccessDeniedException', 'User is not authorized to perform: sagemaker:CreateTrainingJob', 403), 'client_error'],
    ['InternalFailure', awsError('InternalFailure', 'An internal error occurred', 500), 'service_fault'],
    ['any 5xx', awsError('UnknownError', 'Bad gateway', 502), 'service_fault'],
    ['$fault server without a status', { name: 'SomethingOdd', $fault: 'server' }, 'service_fault'],
    ['dropped connection', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'service_fault'],
    ['SDK timeout', Object.assign(new Error('Connection timed out after 1000 ms'), { name: 'TimeoutError' }), 'service_fault'],
    ['capacity at create time', awsError('CapacityError', 'Unable to provision requested ML compute capacity.', 400), 'capacity'],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'TrainingJobArn')"), 'client_error'],
    ['not an error at all', 'boom', 'client_error'],
    ['null', null, 'client_error'],
  ];
  for (const [name, err, expected] of cases) it(`${name} → ${expected}`, () => assert.equal(classifyApiError(err), expected));
});

describe('classifyJobEnd', () => {
  const cases: [string, Parameters<typeof classifyJobEnd>[0], FailureClass | 'completed'][] = [
    ['completed', { status: 'Completed', secondaryStatus: 'Completed' }, 'completed'],
    ['capacity', { status: 'Failed', secondaryStatus: 'Failed', failureReason: 'CapacityError: Unable to provision requested ML compute capacity. Please retry using a different ML instance type.' }, 'capacity'],
    ['insufficient capacity text', { status: 'Failed', failureReason: 'InsufficientCapacity: We currently do not have sufficient capacity in the Availability Zone' }, 'capacity'],
    ['spot wait exceeded', { status: 'Stopped', secondaryStatus: 'MaxWaitTimeExceeded' }, 'stopped_by_sagemaker'],
    ['max runtime exceeded', { status: 'Stopped', secondaryStatus: 'MaxRuntimeExceeded', failureReason: 'Training job reached its max runtime' }, 'stopped_by_sagemaker'],
    ['stopped by a person', { status: 'Stopped', secondaryStatus: 'Stopped' }, 'stopped_by_operator'],
    ['stopped by this workflow', { status: 'Stopped', secondaryStatus: 'Stopped', stoppedByWorkflow: true }, 'stopped_by_workflow'],
    ['client error', { status: 'Failed', failureReason: 'ClientError: Data download failed: NoSuchKey s3://data/train/data.csv' }, 'client_error'],
    ['algorithm error', { status: 'Failed', failureReason: 'AlgorithmError: ExecuteUserScriptError: Command "python train.py" exited 1' }, 'algorithm_error'],
    ['internal server error', { status: 'Failed', failureReason: 'InternalServerError: We encountered an internal error. Please try again.' }, 'service_fault'],
    ['unexplained failure', { status: 'Failed' }, 'algorithm_error'],
    ['not ended', { status: 'InProgress', secondaryStatus: 'Training' }, 'client_error'],
  ];
  for (const [name, job, expected] of cases) it(`${name} → ${expected}`, () => assert.equal(classifyJobEnd(job), expected));
});

describe('isRetryable', () => {
  it('retries only what time or another attempt can fix', () => {
    const retryable: FailureClass[] = ['throttling', 'service_fault', 'capacity', 'stopped_by_sagemaker'];
    const final: FailureClass[] = ['quota', 'stopped_by_operator', 'stopped_by_workflow', 'client_error', 'algorithm_error', 'not_found', 'conflict'];
    for (const c of retryable) assert.equal(isRetryable(c), true, c);
    for (const c of final) assert.equal(isRetryable(c), false, c);
  });
});
