/**
 * The API trusts a forwarded client address only from a loopback peer (client-ip.ts), and the front
 * hands a visitor's connection to the internal Bun.serve over loopback (hop-peers.ts). These tests
 * take a client that is not on loopback, as a visitor from the internet is: an address of the
 * host's own (link-local, on `lo`, made and removed here), so no traffic leaves the machine.
 * Whatever such a client writes in X-Real-IP or X-Forwarded-For, the activity log records its own
 * address, also when it closes its connection before the change is recorded.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { connect } from 'node:net';
import { TEST_ACTOR } from '../helpers/app.ts';
import { requireRoot } from '../helpers/root.ts';
import { frontPair, head, rawExchange } from './front-helpers.ts';

const canRun = requireRoot('the front tests with a non-loopback client');
const ADDRESS = `169.254.214.${1 + Math.floor(Math.random() * 250)}`;
const FORGED = ['X-Real-IP: 203.0.113.9', 'X-Forwarded-For: 198.51.100.7'];

function ip(...args: string[]): void {
  const r = Bun.spawnSync(['ip', ...args], { stdout: 'pipe', stderr: 'pipe' });
  if (r.exitCode !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.toString()}`);
}

describe.skipIf(!canRun)("a client that is not on loopback, through the API's front", () => {
  // Registered before frontPair's, so the address exists when the listeners bind to it.
  beforeAll(() => ip('addr', 'add', `${ADDRESS}/32`, 'dev', 'lo'));
  afterAll(() => ip('addr', 'del', `${ADDRESS}/32`, 'dev', 'lo'));
  const pair = frontPair({ SLIPWAY_RATE_LIMIT_IP: '1000' }, () => ADDRESS);
  beforeAll(() => {
    pair.t.deps.projects.create(TEST_ACTOR, { name: 'web' });
  });

  /** The client address the activity log recorded for the creation of project `name`, once it is there. */
  async function recordedIp(name: string): Promise<string | null> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const row = pair.t.deps.db
        .prepare("SELECT client_ip FROM activity WHERE action = 'project.create' AND target = ?")
        .get(name) as { client_ip: string | null } | undefined;
      if (row) return row.client_ip;
      if (Date.now() > deadline) throw new Error(`the creation of ${name} was never recorded`);
      await Bun.sleep(10);
    }
  }

  /** A project creation from ADDRESS, with `lines` added to its head. */
  function creation(name: string, ...lines: string[]): string {
    const body = JSON.stringify({ name });
    return (
      head(
        'POST /v1/projects HTTP/1.1',
        `Host: ${ADDRESS}`,
        `Authorization: Bearer ${pair.t.adminToken}`,
        'Content-Type: application/json',
        `Content-Length: ${body.length}`,
        ...lines,
      ) + body
    );
  }

  test('is logged under its own address whatever forwarded address it sends', async () => {
    for (const [engine, listener] of [
      ['native', pair.native],
      ['serve', pair.serve],
    ] as const) {
      const name = `forged-${engine}`;
      expect(await rawExchange(listener.port, [creation(name, ...FORGED)], ADDRESS, ADDRESS)).toStartWith(
        'HTTP/1.1 201',
      );
      expect(await recordedIp(name)).toBe(ADDRESS);
    }
  });

  test('is logged under its own address when it closes before its change is recorded', async () => {
    // A handed-over visitor's address is forgotten when its connection closes; the change is
    // recorded after that, and must not then find the front's loopback address as the peer.
    for (let i = 0; i < 5; i++) {
      const name = `gone-${i}`;
      await new Promise<void>((resolve, reject) => {
        const socket = connect({ host: ADDRESS, port: pair.native.port, localAddress: ADDRESS });
        socket.on('connect', () => socket.end(creation(name, ...FORGED), () => socket.destroy()));
        socket.on('close', () => resolve());
        socket.on('error', reject);
      });
      expect(await recordedIp(name)).toBe(ADDRESS);
    }
  });

  test('keys the per-IP limit by its own address, not the forwarded one', async () => {
    const remaining = async (...lines: string[]) => {
      const raw = await rawExchange(
        pair.native.port,
        [head('GET /v1/projects HTTP/1.1', `Host: ${ADDRESS}`, ...lines)],
        ADDRESS,
        ADDRESS,
      );
      return Number(/x-ratelimit-remaining: (\d+)/.exec(raw)?.[1]);
    };
    const first = await remaining('X-Real-IP: 203.0.113.10');
    expect(await remaining('X-Real-IP: 203.0.113.11')).toBe(first - 1);
  });
});
