/**
 * The CLI's REST client: Bearer auth, JSON in and out, the API's error envelope turned into an
 * ApiError (message, code, request id), and network failures into "cannot reach the agent".
 */
import { ApiError, UnreachableError } from './errors.ts';
import type { Credentials } from './credentials.ts';
import { VERSION } from '../version.ts';
import { networkReason } from '../install/ports.ts';

/** Query parameters; undefined ones are left out. */
export type Query = Record<string, string | number | boolean | undefined>;

/** Options of one request. */
export interface RequestOptions {
  query?: Query;
  /** A JSON body, or a stream sent as is (with `headers['content-type']`). */
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** A page of a list as the API returns it. */
export interface Page<T> {
  data: T[];
  pagination?: { next_cursor: string | null; has_more: boolean };
}

/** A client bound to one agent and token, resolved on first use (so argument errors are reported first). */
export class ApiClient {
  #credentials: Credentials | undefined;

  constructor(private readonly resolve: Credentials | (() => Credentials)) {}

  /** The agent and token; resolving them may throw (no token anywhere: exit code 3). */
  get credentials(): Credentials {
    return (this.#credentials ??= typeof this.resolve === 'function' ? this.resolve() : this.resolve);
  }

  /** The agent's base URL. */
  get url(): string {
    return this.credentials.url;
  }

  /** Sends a request; resolves any 2xx response, throws ApiError or UnreachableError otherwise. */
  async request(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
    const url = new URL(`${this.url}${path}`);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.credentials.token}`,
      'user-agent': `slipway-cli/${VERSION}`,
      ...opts.headers,
    };
    let body: RequestInit['body'];
    if (opts.body instanceof ReadableStream) body = opts.body;
    else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body, signal: opts.signal, duplex: 'half' } as RequestInit);
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new UnreachableError(`Cannot reach the Slipway agent at ${this.url}: ${networkReason(err)}`, [
        'Is it running? On its host: `systemctl status slipway` or `slipway doctor`',
      ]);
    }
    if (res.ok) return res;
    throw await apiError(res);
  }

  /** A request whose answer is JSON (or nothing, for 204). */
  async json<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.request(method, path, opts);
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }

  /** GET that answers JSON. */
  get<T>(path: string, query?: Query): Promise<T> {
    return this.json<T>('GET', path, { query });
  }

  /** Every item of a keyset-paginated list, following cursors, up to `max` items. */
  async list<T>(path: string, query: Query = {}, max = Number.MAX_SAFE_INTEGER): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | undefined;
    do {
      const limit = Math.min(100, max - items.length);
      const page = await this.get<Page<T>>(path, { ...query, limit, cursor });
      items.push(...page.data);
      cursor = page.pagination?.has_more ? (page.pagination.next_cursor ?? undefined) : undefined;
    } while (cursor && items.length < max);
    return items;
  }
}

/** The ApiError of a failed response; a body that is not the envelope still yields status and request id. */
export async function apiError(res: Response): Promise<ApiError> {
  const requestId = res.headers.get('x-request-id');
  const text = await res.text().catch(() => '');
  try {
    const { error } = JSON.parse(text) as {
      error: { code: string; message: string; request_id?: string; issues?: { path: string; message: string }[] };
    };
    return new ApiError(res.status, error.code, error.message, error.request_id ?? requestId, error.issues ?? []);
  } catch {
    const message = `The agent answered ${res.status} ${res.statusText}`.trim();
    return new ApiError(res.status, 'unknown', message, requestId);
  }
}

/** Path segment escaping for names and ids taken from the command line. */
export function seg(value: string): string {
  return encodeURIComponent(value);
}
