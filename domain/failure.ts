// Why a SageMaker call or job failed, and whether trying again can help. Activities classify; workflows
// decide (retry the call, start a new training attempt, or stop with a reason a person can act on).

export type FailureClass =
  | 'throttling'
  | 'service_fault'
  | 'quota'
  | 'capacity'
  | 'stopped_by_sagemaker'
  | 'stopped_by_operator'
  /** Stopped because this workflow asked (cancellation): nothing to retry. */
  | 'stopped_by_workflow'
  | 'client_error'
  | 'algorithm_error'
  | 'not_found'
  | 'conflict';

const RETRYABLE: Record<FailureClass, boolean> = {
  throttling: true, // management-API rate limits are fixed; backing off is the only remedy
  service_fault: true, // 5xx and dropped connections are transient
  capacity: true, // another attempt, later or elsewhere, may get instances
  stopped_by_sagemaker: true, // spot wait or max runtime ran out: resume from the checkpoint
  quota: false, // needs a quota increase or other jobs to finish: a person should know now
  stopped_by_operator: false, // someone chose to stop it
  stopped_by_workflow: false,
  client_error: false, // the request or the data is wrong; the same call fails the same way
  algorithm_error: false, // the training code failed on this data
  not_found: false,
  conflict: false, // callers treat "already exists" as success where the name is deterministic
};

export function isRetryable(failure: FailureClass): boolean {
  return RETRYABLE[failure];
}

const THROTTLING_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
]);
const QUOTA_NAMES = new Set(['ResourceLimitExceeded', 'ServiceQuotaExceededException']);
const CONFLICT_NAMES = new Set(['ResourceInUse', 'ConflictException', 'ConflictingOperationException']);
const NOT_FOUND_NAMES = new Set(['ResourceNotFound', 'ResourceNotFoundException', 'NoSuchKey', 'NoSuchBucket', 'NotFound', 'NoSuchUpload']);
const SERVICE_FAULT_NAMES = new Set(['InternalFailure', 'InternalServerError', 'InternalError', 'ServiceUnavailable', 'ServiceUnavailableException']);
// Connections that drop or time out before AWS answers carry no $metadata, only a Node error code.
const TRANSIENT_NETWORK = /^(ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EAI_AGAIN|ENOTFOUND|TimeoutError|RequestTimeout|RequestTimeoutException|NetworkingError)$/;
const CAPACITY = /CapacityError|InsufficientCapacity|insufficient capacity/i;

interface AwsErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/**
 * An AWS SDK v3 error's class, from its name, then its HTTP status and fault. SageMaker reports some
 * outcomes as ValidationException with a telling message ("Requested resource not found",
 * "Cannot create already existing model"), so those are read too. Anything unrecognised is a client error:
 * retrying an error nobody understands hides bugs.
 */
export function classifyApiError(err: unknown): FailureClass {
  if (typeof err !== 'object' || err === null) return 'client_error';
  const e = err as AwsErrorShape;
  const name = typeof e.name === 'string' ? e.name : '';
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : '';
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;

  if (THROTTLING_NAMES.has(name) || status === 429 || /^Rate exceeded/i.test(message)) return 'throttling';
  if (QUOTA_NAMES.has(name)) return 'quota';
  if (CAPACITY.test(name) || CAPACITY.test(message)) return 'capacity';
  if (CONFLICT_NAMES.has(name) || status === 409) return 'conflict';
  if (NOT_FOUND_NAMES.has(name) || status === 404) return 'not_found';
  if (name === 'ValidationException') {
    if (/not found|could not find|does not exist/i.test(message)) return 'not_found';
    if (/already exist/i.test(message)) return 'conflict';
    return 'client_error';
  }
  if (SERVICE_FAULT_NAMES.has(name) || e.$fault === 'server' || (status !== undefined && status >= 500)) return 'service_fault';
  if (TRANSIENT_NETWORK.test(name) || TRANSIENT_NETWORK.test(code)) return 'service_fault';
  return 'client_error';
}

export interface JobEnd {
  status: 'Completed' | 'Failed' | 'Stopped' | string;
  secondaryStatus?: string;
  failureReason?: string;
  /** True when this workflow called Stop*Job itself (for example on cancellation). */
  stoppedByWorkflow?: boolean;
}

const STOPPED_BY_SAGEMAKER = /MaxWaitTimeExceeded|MaxRuntimeExceeded/;

/**
 * How a training or processing job ended. A spot job whose wait ran out ends Stopped with
 * SecondaryStatus MaxWaitTimeExceeded (not Failed), and likewise MaxRuntimeExceeded; those are
 * SageMaker's stops and resumable. Any other stop came from a person unless this workflow asked.
 * Failed jobs are read from FailureReason's prefix: ClientError (our request or data),
 * AlgorithmError (the training code), InternalServerError (SageMaker), or capacity text anywhere.
 */
export function classifyJobEnd(job: JobEnd): FailureClass | 'completed' {
  const reason = job.failureReason ?? '';
  switch (job.status) {
    case 'Completed':
      return 'completed';
    case 'Stopped':
      if (STOPPED_BY_SAGEMAKER.test(job.secondaryStatus ?? '') || STOPPED_BY_SAGEMAKER.test(reason)) return 'stopped_by_sagemaker';
      return job.stoppedByWorkflow ? 'stopped_by_workflow' : 'stopped_by_operator';
    case 'Failed':
      if (CAPACITY.test(reason)) return 'capacity';
      if (/^\s*ClientError\b/.test(reason)) return 'client_error';
      if (/^\s*AlgorithmError\b/.test(reason)) return 'algorithm_error';
      if (/^\s*(InternalServerError|InternalFailure|ServerError)\b/.test(reason)) return 'service_fault';
      if (/ResourceLimitExceeded/.test(reason)) return 'quota';
      // An unexplained failure is not retried blindly; the reason goes to a person as-is.
      return 'algorithm_error';
    default:
      // InProgress, Stopping and the like have not ended; asking is a caller bug, and retrying is wrong.
      return 'client_error';
  }
}
