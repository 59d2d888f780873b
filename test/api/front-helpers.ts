/**
 * Two API listeners over one database, one per engine (src/api/early.ts): Bun.serve on the port
 * (`serve`), and the front that answers the fast lane's reads from bytes before it (`native`).
 * The same bytes sent to both must get the same bytes back, except what differs by nature from
 * one answer to the next (request ids, Date, seconds to the rate window's end, uptime).
 */
import { afterAll, beforeAll, expect } from 'bun:test';
import type { AnyElysia } from 'elysia';
import { connect } from 'node:net';
import { createApp } from '../../src/app.ts';
import { type ApiListener, listenApi } from '../../src/api/early.ts';
import { apiAdmission } from '../../src/api/shell.ts';
import { makeTestApp, type TestApp } from '../helpers/app.ts';

/** Both listeners, built, over one test app. */
export interface FrontPair {
  t: TestApp;
  serve: ApiListener;
  native: ApiListener;
}

/**
 * Starts both listeners (each with a limiter of its own) before the file's tests, with `env`
 * settings, on `hostname` (a function: an address a test makes in its own beforeAll).
 */
export function frontPair(env: Record<string, string> = {}, hostname = () => '127.0.0.1'): FrontPair {
  const pair = {} as FrontPair;
  beforeAll(async () => {
    pair.t = makeTestApp(env);
    const listen = (engine: 'serve' | 'native') => {
      const admit = apiAdmission(pair.t.deps);
      const options = { hostname: hostname(), port: 0, maxRequestBodySize: 4 * 1024 * 1024, engine };
      return listenApi(pair.t.deps, admit, options, async () => createApp(pair.t.deps, admit) as AnyElysia, 60_000);
    };
    pair.serve = listen('serve');
    pair.native = listen('native');
    await Promise.all([pair.serve.app(), pair.native.app()]);
  });
  afterAll(async () => {
    await pair.serve?.stop();
    await pair.native?.stop();
    pair.t?.close();
  });
  return pair;
}

/** How long a connection may stay silent after an answer before what it received counts as all it gets. */
const QUIET_MS = 150;
/** How long the first answer may take (the first use of a route compiles its validators). */
const FIRST_ANSWER_MS = 5000;

/**
 * Sends `bytes` (chunk by chunk) on a new connection to `host`:`port`, from `localAddress` if given, and
 * returns everything received until the server closes the connection or, once it answered, stays
 * quiet for QUIET_MS.
 */
export function rawExchange(port: number, bytes: string[], localAddress?: string, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, localAddress });
    let received = '';
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(received);
    };
    const quiet = (ms = QUIET_MS) => {
      clearTimeout(timer);
      timer = setTimeout(done, ms);
    };
    socket.on('connect', () => {
      for (const chunk of bytes) socket.write(Buffer.from(chunk, 'latin1'));
      quiet(FIRST_ANSWER_MS);
    });
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      quiet();
    });
    socket.on('close', done);
    socket.on('error', (err) => (received === '' ? reject(err) : done()));
  });
}

/** `raw` with what differs by nature between two answers replaced by placeholders (the reset checked to be 0–60). */
export function normalised(raw: string): string {
  const seconds = (n: string) => {
    expect(Number(n)).toBeWithin(0, 61);
    return '<s>';
  };
  return raw
    .replace(/req_[0-9a-f]{32}/g, 'req_<id>')
    .replace(/\r\nDate: [^\r]+/g, '\r\nDate: <date>')
    .replace(/(reset=|x-ratelimit-reset: |Retry-After: )(\d+)/g, (_, name: string, n: string) => name + seconds(n))
    .replace(/"uptime_seconds":\d+/g, '"uptime_seconds":<n>');
}

/** A request head of `lines`, ending its head. */
export function head(startLine: string, ...lines: string[]): string {
  return `${[startLine, ...lines].join('\r\n')}\r\n\r\n`;
}
