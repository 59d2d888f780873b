/**
 * The rule every hostile-framing case is held to: the edge either refuses the bytes (a 400, or
 * `refuseWith`, then closes, forwarding nothing) or forwards what the upstream reads, strictly, as
 * exactly the requests the visitor meant — never two from one, never a body read as a request,
 * never bytes the upstream finds ambiguous.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { closeAll, startEdge } from './helpers.ts';
import {
  engineOptions,
  ENGINE,
  exchange,
  FRAMING_TLS,
  finals,
  type Recorder,
  recordingUpstream,
  type Step,
} from './framing-fixture.ts';
import { startTlsEdge, testCa } from './tls-helpers.ts';
import { values, type WireMessage } from './wire.ts';

/** A request as the upstream should read it; `to` is the project it should reach (web by default). */
export interface Meant {
  method: string;
  target: string;
  body?: string;
  /** Fields the upstream must see with these values (lowercase names). */
  headers?: Record<string, string>;
  to?: 'web' | 'other';
}

/** One hostile input and what may come of it. */
export interface FramingCase {
  what: string;
  send: Step[];
  /** The requests the upstream must read if the edge forwards; null: the edge must refuse. */
  forward: Meant[] | null;
  /** With `forward`: refusing is acceptable too. */
  mayRefuse?: boolean;
  /** Statuses accepted for a refusal; [400] by default. */
  refuseWith?: number[];
  /**
   * The bytes frame a request unambiguously and only its meaning is refused (an absolute-form
   * target, say): the edge may keep the connection open after its 400, as nginx does.
   */
  wellFramed?: boolean;
  /** Why today's node path fails this case: the test is then marked failing, never skipped. */
  nodeFails?: string;
}

/** The shared fixture of a framing test file: one edge, upstreams for web.localhost and other.localhost. */
export interface FramingFixture {
  port: number;
  /** Whether the port is the edge's HTTPS one (FRAMING_TLS). */
  tls: boolean;
  web: Recorder;
  other: Recorder;
}

/** Starts the fixture before the file's tests and stops it after them. */
export function framingFixture(): FramingFixture {
  const fx = { port: 0, tls: FRAMING_TLS !== null } as FramingFixture;
  beforeAll(async () => {
    fx.web = recordingUpstream();
    fx.other = recordingUpstream();
    const routes = [
      { project: 'web', hostnames: [], targets: [fx.web.address] },
      { project: 'other', hostnames: [], targets: [fx.other.address] },
    ];
    if (FRAMING_TLS === null) fx.port = startEdge(routes, engineOptions()).port;
    else {
      const certificates = [testCa().issue(['*.localhost'])];
      fx.port = startTlsEdge({ routes, certificates }, { ...engineOptions(), tlsAdmission: FRAMING_TLS }).httpsPort;
    }
    // One request to each project first, so that every case meets an edge with pooled upstream connections.
    const warm = (host: string) =>
      exchange(fx.port, [head('GET / HTTP/1.1').replace('web.localhost', host)], ['GET'], (rs) => rs.length > 0, {
        tls: fx.tls,
      });
    await Promise.all([warm('web.localhost'), warm('other.localhost')]);
  });
  afterAll(closeAll);
  return fx;
}

/** What the upstream read, reduced to what a case names. */
function reduce(to: 'web' | 'other', req: WireMessage, meant: Meant | undefined): Meant {
  const headers: Record<string, string> = {};
  for (const name of Object.keys(meant?.headers ?? {})) headers[name] = values(req.headers, name).join(', ');
  return { method: req.start[0], target: req.start[1], body: req.body, headers, to };
}

/** Runs one case on a new visitor connection and checks it against the rule. */
export async function runCase(fx: FramingFixture, c: FramingCase): Promise<void> {
  fx.web.reset();
  fx.other.reset();
  const count = c.forward?.length ?? 0;
  const methods = c.forward?.map((m) => m.method) ?? ['GET'];
  // A refusal of bad framing is only over when the edge closes: the connection is waited on until then.
  const answered = (rs: WireMessage[]) =>
    (count > 0 && finals(rs).length >= count && finals(rs).every((r) => Number(r.start[1]) < 400)) ||
    (c.wellFramed === true && finals(rs).length > 0);
  const got = await exchange(fx.port, c.send, methods, answered, { tls: fx.tls });
  const seen = [
    ...fx.web.requests.map((r, i) => reduce('web', r, c.forward?.[i])),
    ...fx.other.requests.map((r, i) => reduce('other', r, c.forward?.[i])),
  ];
  expect({ upstreamErrors: [...fx.web.errors, ...fx.other.errors] }).toEqual({ upstreamErrors: [] });
  if (seen.length === 0 && (c.forward === null || c.mayRefuse)) {
    const last = finals(got.responses).at(-1);
    expect({ refused: last?.start[1], closed: got.closed, error: got.error }).toEqual({
      refused: expect.stringMatching(new RegExp(`^(${(c.refuseWith ?? [400]).join('|')})$`)),
      closed: c.wellFramed ? got.closed : true,
      error: undefined,
    });
    return;
  }
  const meant: Meant[] = (c.forward ?? []).map((m) => ({ body: '', headers: {}, to: 'web', ...m }));
  expect(seen).toEqual(meant);
  // Each forwarded request gets its response; what follows them may be refused with a 400 and a close.
  const statuses = finals(got.responses).map((r) => r.start[1]);
  const refusedAfter = statuses.length === meant.length + 1 && statuses.at(-1) === '400' && got.closed;
  expect(refusedAfter ? statuses.slice(0, -1) : statuses).toEqual(meant.map(() => '200'));
}

/** Declares one test per case, titled as the behaviour it checks. */
export function framingTests(fx: FramingFixture, cases: FramingCase[]): void {
  for (const c of cases) {
    const outcome =
      c.forward === null ? 'is refused' : c.mayRefuse ? 'is refused or forwarded as meant' : 'is forwarded as meant';
    const over = FRAMING_TLS === null ? '' : `, over HTTPS with admission ${FRAMING_TLS}`;
    const title = `${c.what} ${outcome} (${ENGINE} engine${over})`;
    if (c.nodeFails && ENGINE === 'node') test.failing(`${title}; fails on node: ${c.nodeFails}`, () => runCase(fx, c));
    else test(title, () => runCase(fx, c));
  }
}

/** A request head with Host web.localhost, the given extra lines, and CRLF line ends. */
export function head(startLine: string, ...lines: string[]): string {
  return [startLine, 'Host: web.localhost', ...lines, '', ''].join('\r\n');
}

/** A request that must never reach an upstream as one: what smugglers hide in bodies. */
export const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: web.localhost\r\n\r\n';
