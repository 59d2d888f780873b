/** The console's one way to call the API: same-origin, the session cookie, the CSRF header on changes. */

/** An API failure as the console shows it: the API's message and request id. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | null,
  ) {
    super(message);
  }
}

/** The header the API requires on every state-changing request made with the session cookie. */
export const CSRF_HEADERS = { 'X-Slipway-Csrf': '1' };

/** Turns a failed response into an ApiError, reading the error envelope when there is one. */
export async function failure(res: Response): Promise<ApiError> {
  const requestId = res.headers.get('x-request-id');
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string; request_id?: string } };
    const e = body.error ?? {};
    return new ApiError(res.status, e.code ?? 'error', e.message ?? res.statusText, e.request_id ?? requestId);
  } catch {
    return new ApiError(res.status, 'error', `The API answered ${res.status} ${res.statusText}`, requestId);
  }
}

/** Calls the API and returns its JSON; throws ApiError on a failure. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = method === 'GET' ? {} : { ...CSRF_HEADERS };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch {
    throw new ApiError(0, 'network', 'Cannot reach the Slipway API', null);
  }
  if (!res.ok) {
    const err = await failure(res);
    if (res.status === 401) window.dispatchEvent(new CustomEvent('slipway:signed-out'));
    throw err;
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** Every item of a paginated list (up to `max`). */
export async function listAll<T>(path: string, max = 1000): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page: { data: T[]; pagination: { next_cursor: string | null } } = await api(
      'GET',
      `${path}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    out.push(...page.data);
    cursor = page.pagination.next_cursor;
  } while (cursor && out.length < max);
  return out;
}

/** A path segment, escaped. */
export const seg = (s: string) => encodeURIComponent(s);
