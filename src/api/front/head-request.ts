/**
 * A request head the API's front parsed (the edge's strict reader, src/edge/http1/request-head.ts),
 * as the fast lane reads a request: its method, its URL, and the few header fields admission and
 * the lane look at. Those are read off the head's bytes once; no Request or Headers is made. A head
 * that carries one of them twice is not taken (Headers would join the values; Bun.serve decides).
 */
import { lineValue, sameLetters } from '../../edge/http1/head-lines.ts';
import type { RequestHead } from '../../edge/http1/request-head.ts';
import type { RequestLike } from '../request-state.ts';

/**
 * Every field a lane read may look at (admission, the session cookie and its CSRF rule, the client's
 * address); asking for another one throws.
 */
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
/** Indexes into READ, by name length then candidate. */
const BY_LENGTH: number[][] = [];
for (const [i, name] of READ.entries()) (BY_LENGTH[name.length] ??= []).push(i);
const INDEX = new Map(READ.map((name, i) => [name, i]));

/** The fields of a head that a lane read may look at, as Headers.get would give them. */
class HeadFields {
  /** The value of each of READ's fields, by its index there; undefined when absent. */
  constructor(private readonly values: (string | undefined)[]) {}

  get(name: string): string | null {
    const i = INDEX.get(name) ?? INDEX.get(name.toLowerCase());
    // Fails loudly (the differential test) rather than answer as if a field were absent.
    if (i === undefined) throw new Error(`The API front does not read the ${name} field; add it to READ`);
    return this.values[i] ?? null;
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
  const values: (string | undefined)[] = new Array(READ.length);
  for (let i = 0; i < lines.count; i++) {
    const from = lines.starts[i]!;
    const to = lines.colon[i]!;
    const candidates = BY_LENGTH[to - from];
    if (candidates === undefined) continue;
    for (const k of candidates) {
      if (!sameLetters(source, from, to, READ[k]!)) continue;
      if (values[k] !== undefined) return null;
      values[k] = lineValue(source, lines, i);
    }
  }
  return new HeadRequest(head, new HeadFields(values));
}
