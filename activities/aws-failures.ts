// AWS SDK errors crossing into Temporal: typed by SageMaker's own error code (not the SDK's class,
// which is SageMakerServiceException for every unmodelled error) and marked retryable or not by the
// pure failure classifier, so a ValidationException fails the run at once while throttling retries.
import { ApplicationFailure, CancelledFailure } from '@temporalio/activity';
import { classifyApiError, isRetryable } from '../domain/failure';

interface AwsError {
  name: string;
  message: string;
  $metadata?: { httpStatusCode?: number; requestId?: string };
  $fault?: string;
}

function isAwsError(err: unknown): err is AwsError {
  return err instanceof Error && typeof (err as { $metadata?: unknown }).$metadata === 'object';
}

export function asActivityFailure(err: unknown): unknown {
  if (!isAwsError(err) || err instanceof CancelledFailure) return err;
  const failureClass = classifyApiError(err);
  return ApplicationFailure.create({
    type: err.name,
    message: `${err.name}: ${err.message}`,
    nonRetryable: !isRetryable(failureClass),
    details: [{ failureClass, httpStatusCode: err.$metadata?.httpStatusCode, requestId: err.$metadata?.requestId }],
    cause: err,
  });
}

/** Wraps each activity so AWS errors leave it classified. */
export function classifyingAwsErrors<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T): T {
  return Object.fromEntries(
    Object.entries(activities).map(([name, fn]) => [
      name,
      async (...args: never[]) => {
        try {
          return await fn(...args);
        } catch (err) {
          throw asActivityFailure(err);
        }
      },
    ]),
  ) as T;
}
