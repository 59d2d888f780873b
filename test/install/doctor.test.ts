import { afterAll, describe, expect, test } from 'bun:test';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { loadConfig } from '../../src/config.ts';
import type { DoctorInput, Probes } from '../../src/install/check.ts';
import { runDoctor } from '../../src/install/doctor.ts';
import { edgeIsolationCheck } from '../../src/install/edge-checks.ts';
import { clockCheck, dataDirCheck } from '../../src/install/host-checks.ts';
import { listeningPorts } from '../../src/install/ports.ts';

const PROC_NET_TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1B9E 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 538 1 0 100 0 0 10 0
   1: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 539 1 0 100 0 0 10 0
   2: 0100007F:1B9E 0100007F:D2C4 01 00000000:00000000 00:00000000 00000000     0        0 540 1 0 20 4 30 10 -1
`;

const noDocker = {
  info: async () => Promise.reject(new Error('connect ENOENT /var/run/docker.sock')),
} as unknown as Docker;
const NOW = Date.parse('2026-01-02T03:04:05.000Z');

function input(config: Record<string, string>, extra: Partial<DoctorInput> = {}): DoctorInput {
  return {
    config: loadConfig(config),
    installed: false,
    listening: new Set(),
    docker: noDocker,
    now: () => NOW,
    ...extra,
  };
}

describe('listening ports', () => {
  test('are the LISTEN rows of /proc/net/tcp, IPv4 and IPv6 alike', () => {
    expect([...listeningPorts(PROC_NET_TCP)]).toEqual([7070, 80]);
    expect([
      ...listeningPorts(
        '  sl  local_address ...\n   0: 00000000000000000000000000000000:01BB 00000000000000000000000000000000:0000 0A 0 0 0 0 0 0\n',
      ),
    ]).toEqual([443]);
  });
});

describe('the doctor', () => {
  const foreign = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response('not slipway') });
  afterAll(() => foreign.stop(true));

  test('names ports another program holds, and an absent Docker engine, each with its fix', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'slipway-doctor-'));
    const port = foreign.port!;
    const checks = await runDoctor(
      input(
        {
          SLIPWAY_DATA_DIR: dataDir,
          SLIPWAY_API_LISTEN: `127.0.0.1:${port}`,
          SLIPWAY_HTTP_LISTEN: `127.0.0.1:${port}`,
        },
        { listening: new Set([port]) },
      ),
    );
    expect(checks.slice(0, 5)).toEqual([
      {
        name: 'Docker engine',
        status: 'fail',
        detail: 'not reachable at unix:///var/run/docker.sock: connect ENOENT /var/run/docker.sock',
        fix: 'start it (systemctl start docker) or install it (apt-get install docker.io); DOCKER_HOST points Slipway at another engine',
      },
      {
        name: 'API',
        status: 'fail',
        detail: `no Slipway API at http://127.0.0.1:${port}: another program answers (HTTP 200)`,
        fix: 'start it: slipway serve',
      },
      {
        name: 'API port',
        status: 'fail',
        detail: `port ${port} is held by another program`,
        fix: `stop it (\`ss -ltnp 'sport = :${port}'\` shows which), or move Slipway with SLIPWAY_API_LISTEN`,
      },
      {
        name: 'HTTP port',
        status: 'fail',
        detail: `port ${port} is held by another program`,
        fix: `stop it (\`ss -ltnp 'sport = :${port}'\` shows which), or move Slipway with SLIPWAY_HTTP_LISTEN`,
      },
      {
        name: 'Edge',
        status: 'fail',
        detail: `http://127.0.0.1:${port} is not Slipway's edge (HTTP 200)`,
        fix: 'start it: slipway serve',
      },
    ]);
    expect(checks.slice(5).map((c) => [c.name, c.status])).toEqual([
      ['Data directory', 'ok'],
      ['Disk space (data)', expect.any(String)],
      ['Clock', 'warn'],
      // Which runtime cannot be told without the engine.
      ['Runtime', 'warn'],
    ]);
  });

  test('once installed, the fixes name the systemd units', async () => {
    const checks = await runDoctor(
      input(
        {
          SLIPWAY_DATA_DIR: mkdtempSync(join(tmpdir(), 'slipway-doctor-')),
          SLIPWAY_API_LISTEN: '127.0.0.1:9',
          SLIPWAY_HTTP_LISTEN: '127.0.0.1:9',
        },
        { installed: true },
      ),
    );
    expect(checks.find((c) => c.name === 'Edge')).toEqual({
      name: 'Edge',
      status: 'fail',
      detail: 'no Slipway edge at http://127.0.0.1:9: connection refused',
      fix: 'systemctl start slipway-edge; see why it stopped with journalctl -u slipway-edge -n 50',
    });
    expect(checks.find((c) => c.name === 'API port')).toEqual({
      name: 'API port',
      status: 'ok',
      detail: '127.0.0.1:9 is free',
      fix: null,
    });
  });

  test('checks the data directory is owned by the slipway user once installed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-doctor-'));
    const passwd = join(dir, 'passwd');
    writeFileSync(passwd, 'root:x:0:0::/root:/bin/sh\nslipway:x:999:999::/var/lib/slipway:/usr/sbin/nologin\n');
    expect(dataDirCheck(input({ SLIPWAY_DATA_DIR: dir }, { installed: true }), passwd)).toEqual({
      name: 'Data directory',
      status: 'fail',
      detail: `${dir} is not owned by the slipway user the API runs as`,
      fix: 'run `slipway install` again as root: it sets the owners of the data directory and what the edge may use in it',
    });
    expect(dataDirCheck(input({ SLIPWAY_DATA_DIR: join(dir, 'later') }), passwd)).toEqual({
      name: 'Data directory',
      status: 'ok',
      detail: `${join(dir, 'later')} does not exist yet; it is created on first start`,
      fix: null,
    });
  });

  test("checks, once installed, that the edge's user may use its two stores and nothing else", () => {
    // The data directory as installed, with this process's own uid and gid standing in for both users.
    const dir = mkdtempSync(join(tmpdir(), 'slipway-doctor-'));
    const [uid, gid] = [process.getuid!(), process.getgid!()];
    const accounts = (edgeUid: number) => {
      writeFileSync(join(dir, 'passwd'), `slipway:x:${uid}:${gid}::/:/x\nslipway-edge:x:${edgeUid}:${gid}::/:/x\n`);
      writeFileSync(join(dir, 'group'), `slipway:x:${gid}:\nslipway-edge:x:${gid}:\n`);
    };
    accounts(uid);
    const data = join(dir, 'data');
    for (const [path, mode] of [
      ['', 0o710],
      ['edge', 0o2750],
      ['edge-state', 0o2750],
    ] as const) {
      mkdirSync(join(data, path), { recursive: true });
      chmodSync(join(data, path), mode);
    }
    writeFileSync(join(data, 'master.key'), 'key', { mode: 0o600 });
    writeFileSync(join(data, 'edge/routes.db'), '', { mode: 0o640 });
    const check = () =>
      edgeIsolationCheck(
        input({ SLIPWAY_DATA_DIR: data }, { installed: true }),
        join(dir, 'passwd'),
        join(dir, 'group'),
      );
    expect(check()).toEqual({
      name: 'Edge isolation',
      status: 'ok',
      detail: `the slipway-edge user may read ${data}/edge and write ${data}/edge-state, nothing else`,
      fix: null,
    });
    const reinstall = 'run `slipway install` again as root: it creates the users and sets these owners and modes';
    chmodSync(join(data, 'master.key'), 0o644);
    expect(check()).toEqual({
      name: 'Edge isolation',
      status: 'fail',
      detail: `${data}/master.key is mode 0644: users other than slipway may read it`,
      fix: `chmod 600 ${data}/master.key`,
    });
    chmodSync(join(data, 'edge'), 0o755);
    expect(check()).toMatchObject({
      status: 'fail',
      detail: `${data}/edge is slipway:slipway 0755, not slipway:slipway-edge 2750`,
      fix: reinstall,
    });
    chmodSync(join(data, 'edge'), 0o2750);
    accounts(uid + 1); // edge-state/ belongs to the slipway user, not to the edge's
    expect(check()).toMatchObject({
      status: 'fail',
      detail: `${data}/edge-state is slipway:slipway 2750, not slipway-edge:slipway 2750`,
    });
    writeFileSync(join(dir, 'passwd'), `slipway:x:${uid}:${gid}::/:/x\n`);
    expect(check()).toMatchObject({
      status: 'fail',
      detail: 'there is no slipway-edge user and group for the edge to run as',
    });
  });

  test('fails a clock more than 5 s away from the Docker engine', () => {
    const probes = (offsetMs: number): Probes => ({
      docker: { version: '27.0', time: NOW + offsetMs, rootDir: null },
      api: { error: 'connection refused' },
      edge: { error: 'connection refused' },
    });
    expect(clockCheck(input({}), probes(1200))).toEqual({
      name: 'Clock',
      status: 'ok',
      detail: '1.2 s from the Docker engine (2026-01-02T03:04:05.000Z)',
      fix: null,
    });
    expect(clockCheck(input({}), probes(-10_000))).toEqual({
      name: 'Clock',
      status: 'fail',
      detail: '10.0 s from the Docker engine (2026-01-02T03:04:05.000Z)',
      fix: 'synchronise the clocks: timedatectl set-ntp true (systemd-timesyncd), or install chrony',
    });
  });
});

describe('the runtime check', () => {
  const engine = (swarm: object) =>
    ({
      info: async () => ({ ServerVersion: '27.0.0', SystemTime: new Date(NOW).toISOString(), Swarm: swarm }),
    }) as unknown as Docker;
  const runtimeLine = async (env: Record<string, string>, swarm: object) =>
    (await runDoctor(input(env, { docker: engine(swarm) }))).find((c) => c.name === 'Runtime');

  test('says docker is the default, and whether the engine is in a swarm', async () => {
    expect(await runtimeLine({}, { LocalNodeState: 'inactive' })).toEqual({
      name: 'Runtime',
      status: 'ok',
      detail: 'docker, from SLIPWAY_RUNTIME=docker, the default; the engine is not in a swarm (inactive)',
      fix: null,
    });
  });

  test('passes swarm on a manager and names its node count', async () => {
    const check = await runtimeLine(
      { SLIPWAY_RUNTIME: 'swarm' },
      { LocalNodeState: 'active', ControlAvailable: true, Nodes: 3 },
    );
    expect(check).toMatchObject({
      status: 'ok',
      detail: 'swarm, from SLIPWAY_RUNTIME=swarm; the engine is a swarm manager of 3 nodes',
    });
  });

  test('fails swarm on an engine that is not a manager, with the fix', async () => {
    for (const swarm of [{ LocalNodeState: 'inactive' }, { LocalNodeState: 'active', ControlAvailable: false }]) {
      const check = await runtimeLine({ SLIPWAY_RUNTIME: 'swarm' }, swarm);
      expect(check?.status).toBe('fail');
      expect(check?.detail).toStartWith('swarm, from SLIPWAY_RUNTIME=swarm, but the engine is');
      expect(check?.fix).toContain('SLIPWAY_RUNTIME=docker');
    }
  });
});
