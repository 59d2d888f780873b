import type { Principal, AuthFailure } from '../tokens/service.ts';
import type { Actor } from '../activity/service.ts';

/** What Slipway learns about a request before routing: its id, its client and its caller. */
export interface RequestState {
  requestId: string;
  clientIp: string;
  principal: Principal | null;
  /** Why a presented token was refused; undefined when none was presented. */
  authFailure?: AuthFailure;
}

const states = new WeakMap<Request, RequestState>();
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Stores the state of a request; called once, by the first global onRequest hook. */
export function initRequestState(request: Request, clientIp: string | undefined): RequestState {
  const incoming = request.headers.get('x-request-id');
  const state: RequestState = {
    requestId: incoming && SANE_REQUEST_ID.test(incoming) ? incoming : `req_${crypto.randomUUID().replaceAll('-', '')}`,
    clientIp: clientIp ?? 'unknown',
    principal: null,
  };
  states.set(request, state);
  return state;
}

/** The state of a request, made on demand for requests that never went through onRequest. */
export function requestState(request: Request): RequestState {
  return states.get(request) ?? initRequestState(request, undefined);
}

/** The audit identity of a request. */
export function actorOf(request: Request): Actor {
  const s = requestState(request);
  return {
    tokenId: s.principal?.id ?? null,
    tokenName: s.principal?.name ?? null,
    requestId: s.requestId,
    clientIp: s.clientIp,
  };
}
