import type { Principal, AuthFailure } from '../tokens/service.ts';
import type { Actor } from '../activity/service.ts';
import { newRequestId } from '../ids.ts';

/** What Slipway learns about a request before routing: its id, its client and its caller. */
export interface RequestState {
  requestId: string;
  /** The client's address ('unknown' when there is none); worked out on first read. */
  readonly clientIp: string;
  principal: Principal | null;
  /** Why a presented token was refused; undefined when none was presented. */
  authFailure?: AuthFailure;
}

/**
 * What admission and the fast lane read of a request: Bun's Request, or a request head the API's
 * front parsed itself (src/api/front), which makes no Request for the reads it answers.
 */
export interface RequestLike {
  readonly method: string;
  readonly url: string;
  readonly headers: { get(name: string): string | null };
}

const states = new WeakMap<Request, RequestState>();
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * A request's state. The client's address is looked up only when something reads it (the per-IP
 * limit of a request without a valid token, the activity log of a change): asking the socket for
 * its peer is a system call that an authenticated read does not need.
 */
class State implements RequestState {
  principal: Principal | null = null;
  authFailure?: AuthFailure;
  #clientIp: string | undefined;
  #findClientIp: (() => string | undefined) | undefined;

  constructor(
    readonly requestId: string,
    findClientIp: () => string | undefined,
  ) {
    this.#findClientIp = findClientIp;
  }

  get clientIp(): string {
    if (this.#findClientIp) {
      this.#clientIp = this.#findClientIp();
      this.#findClientIp = undefined;
    }
    return this.#clientIp ?? 'unknown';
  }
}

const NO_CLIENT_IP = () => undefined;

/** Stores the state of a request; called once, by the first global onRequest hook. */
export function initRequestState(
  request: Request,
  findClientIp: () => string | undefined = NO_CLIENT_IP,
): RequestState {
  const state = unboundRequestState(request, findClientIp);
  states.set(request, state);
  return state;
}

/**
 * The state of a request without storing it where requestState() finds it: for the fast lane,
 * which hands its state to everything that needs it. Storing a state per request in the WeakMap
 * costs an authenticated read about 3 µs of its ~50 (the garbage collector sweeps the entries of
 * requests long answered).
 */
export function unboundRequestState(request: RequestLike, findClientIp: () => string | undefined): RequestState {
  const incoming = request.headers.get('x-request-id');
  const requestId = incoming && SANE_REQUEST_ID.test(incoming) ? incoming : newRequestId();
  return new State(requestId, findClientIp);
}

/** The state of a request, made on demand for requests that never went through onRequest. */
export function requestState(request: Request): RequestState {
  return states.get(request) ?? initRequestState(request);
}

/** The audit identity of a request; its client address is read when the entry is written. */
export function actorOf(request: Request): Actor {
  const s = requestState(request);
  return {
    tokenId: s.principal?.id ?? null,
    tokenName: s.principal?.name ?? null,
    requestId: s.requestId,
    get clientIp() {
      return s.clientIp;
    },
  };
}
