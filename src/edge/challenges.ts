/**
 * The responses the edge gives itself for exact paths under /.well-known/, on any host, before
 * routing and never redirected: ACME HTTP-01 key authorizations, which the CA fetches over plain
 * HTTP at whatever name it validates, and the domain self-check. Only GET and HEAD are answered;
 * anything else, or a path that is not stored, goes on to the app like any request.
 */
import type { Challenge } from './route-store.ts';

/** Where every challenge path starts; cheaper to test than each prefix. */
const WELL_KNOWN = '/.well-known/';

/** The stored challenges by path, with their expiry as a timestamp. */
export class ChallengeBook {
  private readonly byPath = new Map<string, { body: string; expiresAt: number }>();

  constructor(challenges: readonly Challenge[] = []) {
    for (const c of challenges) this.byPath.set(c.path, { body: c.body, expiresAt: Date.parse(c.expiresAt) });
  }

  /** The body to answer a request with, or undefined when the request is not a live challenge's. */
  answer(method: string | undefined, target: string): string | undefined {
    if (!target.startsWith(WELL_KNOWN) || (method !== 'GET' && method !== 'HEAD')) return undefined;
    const found = this.byPath.get(target);
    return found && found.expiresAt > Date.now() ? found.body : undefined;
  }
}
