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
  const body = { error: { code, message, request_id: requestId, ...(issues ? { issues } : {}) } };
  return new Response(JSON.stringify(body), {
    status: ERROR_STATUS[code],
    headers: { 'content-type': 'application/json', ...headers },
  });
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
    if (error instanceof AppError) {
      return errorResponse(error.code, error.message, requestId, error.issues, error.headers);
    }
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
    log.error('unexpected error', {
      request_id: requestId,
      method: request.method,
      path,
      code: String(code),
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    return errorResponse(
      'internal_error',
      `Internal error: quote request id ${requestId} when reporting it`,
      requestId,
    );
  });
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
