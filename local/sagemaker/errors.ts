// The error shapes SageMaker actually sends. Clients branch on `err.name`, so the codes and
// the message wording are part of the contract, not decoration.

export class SageMakerServiceError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus = 400,
  ) {
    super(message);
    this.name = code;
  }
}

export const validationError = (message: string) => new SageMakerServiceError('ValidationException', message);

export const resourceInUse = (message: string) => new SageMakerServiceError('ResourceInUse', message);

export const resourceLimitExceeded = (message: string) => new SageMakerServiceError('ResourceLimitExceeded', message);

export const throttled = () => new SageMakerServiceError('ThrottlingException', 'Rate exceeded');

export const unknownOperation = (target: string) =>
  new SageMakerServiceError('UnknownOperationException', `Operation ${target} is not supported.`);

export const missingAuthenticationToken = () =>
  new SageMakerServiceError('MissingAuthenticationTokenException', 'Missing Authentication Token', 403);

export const serializationError = (message: string) => new SageMakerServiceError('SerializationException', message);

/** Errors of the sagemaker-runtime service, which has its own codes (ValidationError, not ValidationException). */
export const runtimeValidationError = (message: string) => new SageMakerServiceError('ValidationError', message);

export const modelError = (message: string, originalStatusCode: number, originalMessage: string, logStreamArn: string) =>
  Object.assign(new SageMakerServiceError('ModelError', message, 424), {
    extra: { OriginalStatusCode: originalStatusCode, OriginalMessage: originalMessage, LogStreamArn: logStreamArn },
  });

export function errorBody(err: SageMakerServiceError): Record<string, unknown> {
  const extra = (err as SageMakerServiceError & { extra?: Record<string, unknown> }).extra ?? {};
  return { __type: err.code, message: err.message, ...extra };
}
