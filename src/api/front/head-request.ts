/**
 * A request head the API's front parsed (the edge's strict reader, src/edge/http1/request-head.ts),
 * as the fast lane reads a request: its method, its URL, and the few header fields admission and
 * the lane look at. Those are read off the head's bytes once; no Request or Headers is made. A head
 * that carries one of them twice is not taken (Headers would join the values; Bun.serve decides).
 */
import { lineValue, sameLetters } from '../../edge/http1/head-lines.ts';
import type { RequestHead } from '../../edge/http1/request-head.ts';
import type { RequestLike } from '../request-state.ts';

/** Every field a lane read may look at (admission, the session cookie and its CSRF rule, the client's address). */
const READ = [
  'authorization',
  'cookie',
  'host',
  'origin',
  'sec-fetch-site',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-real-ip',
  'x-request-id',
  'x-slipway-csrf',
];
const BY_LENGTH: string[][] = [];
for (const name of READ) (BY_LENGTH[name.length] ??= []).push(name);

/** The fields of a head that a lane read may look at, as Headers.get would give them. */
class HeadFields {
  constructor(private readonly values: Map<string, string>) {}

  get(name: string): string | null {
    return this.values.get(name.toLowerCase()) ?? null;
  }
}

/** A parsed GET head, as a request the lane reads. */
export class HeadRequest implements RequestLike {
  readonly method = 'GET';

  constructor(
    private readonly head: RequestHead,
    readonly headers: HeadFields,
  ) {}

  /** As Bun.serve makes it: the scheme, the Host and the target. */
  get url(): string {
    return `http://${this.head.host ?? ''}${this.head.url}`;
  }
}

/** `head` as a HeadRequest, or null when it carries a field the lane reads more than once. */
export function headRequest(head: RequestHead): HeadRequest | null {
  const { source, lines } = head;
  const values = new Map<string, string>();
  for (let i = 0; i < lines.count; i++) {
    const from = lines.starts[i]!;
    const to = lines.colon[i]!;
    const candidates = BY_LENGTH[to - from];
    if (candidates === undefined) continue;
    for (const name of candidates) {
      if (!sameLetters(source, from, to, name)) continue;
      if (values.has(name)) return null;
      values.set(name, lineValue(source, lines, i));
    }
  }
  return new HeadRequest(head, new HeadFields(values));
}
