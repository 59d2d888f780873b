import { Elysia } from 'elysia';
import { RateLimitedError, UnsupportedMediaTypeError } from '../errors.ts';
import { jsonTooLarge, readJsonBody } from './json-body.ts';
import { clientIp } from './client-ip.ts';
import { peerAddress } from './hop-peers.ts';
import { admitOrLabel, writeGateHeaders, type Admit } from './admission.ts';
import { initRequestState } from './request-state.ts';

/** The largest JSON body any route takes. */
const MAX_JSON_BYTES = 1024 * 1024;

/** The `body` of routes that read their request stream themselves. */
export const RAW_BODY = Object.freeze({ raw: true });

/**
 * The first thing every request meets, before routing and body parsing: it gets a request id
 * (stored for Elysia's later hooks, see requestState), and `admit` resolves its bearer token to a
 * principal (or a reason for refusal, which the access macro reports on protected routes) and
 * counts it against its rate limit.
 */
export function gatePlugin(admit: Admit, rawBodyPaths: readonly RegExp[] = []) {
  return new Elysia({ name: 'slipway/gate' })
    .onRequest(({ request, server, set }) => {
      const headers = set.headers as Record<string, string>;
      // The peer is read now: a handed-over connection's visitor (hop-peers.ts) is forgotten a while
      // after it closes, and a change's activity record, written later, must not then take the
      // front's loopback address for the client (which would trust a forwarded header).
      const peer = peerAddress(server, request);
      const state = initRequestState(request, () => clientIp(peer, request.headers));
      const decision = admitOrLabel(admit, request, state, headers);
      writeGateHeaders(headers, state.requestId, decision);
      if (!decision.allowed) throw new RateLimitedError(decision.resetSeconds);
    })
    .onParse({ as: 'global' }, ({ request, path, contentType }) => {
      // Upload routes stream their body themselves (with their own, larger limit): leave it unread.
      if ((request.method === 'POST' || request.method === 'PUT') && rawBodyPaths.some((p) => p.test(path)))
        return RAW_BODY;
      // JSON is the only body the API parses, and it is small. This runs before the access check,
      // so an unauthenticated caller is held to the limit too.
      if (Number(request.headers.get('content-length') ?? 0) > MAX_JSON_BYTES) throw jsonTooLarge(MAX_JSON_BYTES);
      // Without a Content-Type the body is not read at all.
      if (contentType === '') return;
      if (/^application\/([\w.+-]+\+)?json\b/i.test(contentType)) return readJsonBody(request, MAX_JSON_BYTES);
      if (request.headers.get('content-length') === '0') return {};
      throw new UnsupportedMediaTypeError(`Unsupported content type "${contentType}": send application/json`);
    })
    .as('global');
}
