/** Typed application errors. Services throw these; src/api/errors.ts maps them to the one envelope. */

/** One entry of a validation error's `issues` list: a JSON pointer and what is wrong there. */
export interface ErrorIssue {
  path: string;
  message: string;
}

/** The machine-readable error codes of the API contract and their HTTP statuses. */
export const ERROR_STATUS = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  validation_error: 422,
  rate_limited: 429,
  internal_error: 500,
  docker_unavailable: 503,
} as const;

/** A code from ERROR_STATUS. */
export type ErrorCode = keyof typeof ERROR_STATUS;

/** An error whose message is safe to show to the client. */
export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly issues?: ErrorIssue[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'AppError';
    this.status = ERROR_STATUS[code];
  }
}

/** 400: the request cannot be understood. */
export class BadRequestError extends AppError {
  constructor(message: string) {
    super('bad_request', message);
  }
}

/** 401: no valid credentials. */
export class UnauthorizedError extends AppError {
  constructor(message: string) {
    super('unauthorized', message, undefined, { 'WWW-Authenticate': 'Bearer realm="slipway"' });
  }
}

/** 403: valid credentials that do not allow this. */
export class ForbiddenError extends AppError {
  constructor(message: string) {
    super('forbidden', message);
  }
}

/** 404: the named thing does not exist (or the caller may not know it exists). */
export class NotFoundError extends AppError {
  constructor(message: string) {
    super('not_found', message);
  }
}

/** 409: the request conflicts with the current state. */
export class ConflictError extends AppError {
  constructor(message: string) {
    super('conflict', message);
  }
}

/** 413: a body larger than allowed. */
export class PayloadTooLargeError extends AppError {
  constructor(message: string) {
    super('payload_too_large', message);
  }
}

/** 415: a body in a format this route does not take. */
export class UnsupportedMediaTypeError extends AppError {
  constructor(message: string) {
    super('unsupported_media_type', message);
  }
}

/** 422: well-formed input with invalid values. */
export class ValidationError extends AppError {
  constructor(message: string, issues?: ErrorIssue[]) {
    super('validation_error', message, issues);
  }
}

/** 429: too many requests; `retryAfter` in seconds. */
export class RateLimitedError extends AppError {
  constructor(retryAfter: number) {
    super('rate_limited', `Too many requests: retry in ${retryAfter} s`, undefined, {
      'Retry-After': String(retryAfter),
    });
  }
}

/** 503: the Docker engine cannot be reached. */
export class DockerUnavailableError extends AppError {
  constructor(message: string) {
    super('docker_unavailable', message);
  }
}
