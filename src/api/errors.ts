import { Elysia, ValidationError as ElysiaValidationError } from 'elysia';
import { AppError, ERROR_STATUS, type ErrorCode, type ErrorIssue } from '../errors.ts';
import type { Logger } from '../log.ts';
import { requestState } from './request-state.ts';
import { describeSchema } from './validation-message.ts';

/** Builds the one error envelope as a JSON Response. */
export function errorResponse(
  code: ErrorCode,
  message: string,
  requestId: string,
  issues?: ErrorIssue[],
  headers: Record<string, string> = {},
): Response {
  return partsResponse(errorParts(code, message, requestId, issues, headers));
}

/** An answer before it becomes a Response: the API's front writes these as bytes itself (src/api/front). */
export interface AnswerParts {
  status: number;
  /** In the order they are written. */
  headers: Record<string, string>;
  body: string;
}

/** The envelope of an error as its parts (errorResponse). */
export function errorParts(
  code: ErrorCode,
  message: string,
  requestId: string,
  issues?: ErrorIssue[],
  headers: Record<string, string> = {},
): AnswerParts {
  const body = { error: { code, message, request_id: requestId, ...(issues ? { issues } : {}) } };
  return {
    status: ERROR_STATUS[code],
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

/** `parts` as a Response. */
export function partsResponse(parts: AnswerParts): Response {
  return new Response(parts.body, { status: parts.status, headers: parts.headers });
}

const LOCATION: Record<string, string> = {
  body: 'request body',
  query: 'query parameters',
  // Elysia reports query values it coerced one by one as 'property'.
  property: 'query parameters',
  params: 'path parameters',
  headers: 'request headers',
  cookie: 'cookies',
};

/**
 * Maps every error to the envelope: AppErrors as they are, Elysia's validation, parse and
 * not-found errors to their codes, anything else to a logged, opaque internal_error.
 * `allowedMethods` tells a wrong method (405) from an unknown path (404).
 */
export function errorPlugin(log: Logger, allowedMethods: (path: string) => string[]) {
  return new Elysia({ name: 'slipway/errors' }).onError({ as: 'global' }, ({ code, error, request, path }) => {
    const { requestId } = requestState(request);
    if (error instanceof AppError) return appErrorResponse(error, requestId);
    if (code === 'VALIDATION' && error instanceof ElysiaValidationError && error.type !== 'response') {
      const where = LOCATION[error.type] ?? error.type;
      return errorResponse('validation_error', `Invalid ${where}`, requestId, validationIssues(error, request.url));
    }
    if (code === 'PARSE') {
      const cause = (error as { cause?: unknown }).cause;
      if (cause instanceof AppError)
        return errorResponse(cause.code, cause.message, requestId, cause.issues, cause.headers);
      return errorResponse('bad_request', 'Cannot parse the request body: expected valid JSON', requestId);
    }
    if (code === 'NOT_FOUND') {
      const allowed = allowedMethods(path);
      if (allowed.length > 0) {
        return errorResponse(
          'method_not_allowed',
          `Method ${request.method} is not allowed on ${path}`,
          requestId,
          undefined,
          {
            Allow: allowed.join(', '),
          },
        );
      }
      return errorResponse('not_found', `No route for ${request.method} ${path}`, requestId);
    }
    return unexpectedErrorResponse(log, error, { requestId, method: request.method, path, code: String(code) });
  });
}

/** The envelope of an AppError, with its own headers (WWW-Authenticate, Retry-After…). */
export function appErrorResponse(error: AppError, requestId: string, headers?: Record<string, string>): Response {
  return partsResponse(appErrorParts(error, requestId, headers));
}

/** appErrorResponse's answer as its parts. */
export function appErrorParts(error: AppError, requestId: string, headers?: Record<string, string>): AnswerParts {
  const all = headers ? { ...headers, ...error.headers } : error.headers;
  return errorParts(error.code, error.message, requestId, error.issues, all);
}

/** Logs an unexpected error with the request id and answers an opaque internal_error. */
export function unexpectedErrorResponse(
  log: Logger,
  error: unknown,
  at: { requestId: string; method: string; path: string; code: string },
  headers?: Record<string, string>,
): Response {
  return partsResponse(unexpectedErrorParts(log, error, at, headers));
}

/** unexpectedErrorResponse's answer as its parts (the error is logged). */
export function unexpectedErrorParts(
  log: Logger,
  error: unknown,
  at: { requestId: string; method: string; path: string; code: string },
  headers?: Record<string, string>,
): AnswerParts {
  log.error('unexpected error', {
    request_id: at.requestId,
    method: at.method,
    path: at.path,
    code: at.code,
    error: error instanceof Error ? (error.stack ?? error.message) : String(error),
  });
  const message = `Internal error: quote request id ${at.requestId} when reporting it`;
  return errorParts('internal_error', message, at.requestId, undefined, headers);
}

function validationIssues(error: ElysiaValidationError, url: string): ErrorIssue[] {
  // Elysia checks coerced query values one at a time and loses their name; find it by value.
  let fallbackPath: string | undefined;
  if (error.type === 'property') {
    for (const [key, value] of new URL(url).searchParams) {
      if (value === String(error.value)) {
        fallbackPath = `/${key}`;
        break;
      }
    }
  }
  const seen = new Set<string>();
  const issues: ErrorIssue[] = [];
  for (const e of error.all) {
    const path = 'path' in e && typeof e.path === 'string' && e.path !== '' ? e.path : (fallbackPath ?? '/');
    const message =
      e.message === 'Unexpected property'
        ? 'Unknown field'
        : e.value === undefined
          ? 'Required'
          : `Expected ${describeSchema(e.schema as never)}`;
    const key = `${path}\0${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push({ path, message: String(message) });
  }
  return issues.length > 0 ? issues : [{ path: '/', message: 'Invalid value' }];
}
