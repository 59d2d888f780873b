/**
 * Build isolation on the real engine and host: a network, firewall and process-limit cgroups of
 * the test's own (unique names, removed afterwards). RUN steps try to reach services on this
 * machine that the test starts itself: on the host's loopback, on the build network's gateway, on
 * addresses the test gives the host (169.254.169.254 and a private one), and behind a network
 * namespace standing in for other machines (a link-local and a private address). Every one is
 * reached from the engine's default bridge, and blocked from the build network. No traffic leaves
 * this machine.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server, Subprocess } from 'bun';
import { removeBuildNetwork } from '../../src/build/build-network.ts';
import { PidsSlots } from '../../src/build/cgroups.ts';
import { nameserversOf, removeFirewall, runIptables } from '../../src/build/firewall.ts';
import { BuildIsolation, type IsolationSettings } from '../../src/build/isolation.ts';
import { BuildProcessLimit } from '../../src/deployments/failures.ts';
import { dockerClient, requireDocker } from '../helpers/docker.ts';
import { requireRoot } from '../helpers/root.ts';
import { buildHarness, PLAIN_SANDBOX } from './harness.ts';

const docker = dockerClient();
const canRun = (await requireDocker()) && requireRoot('the build isolation tests');

const id = randomUUID().replace(/-/g, '').slice(0, 6);
const octet = 1 + Math.floor(Math.random() * 250);
const dir = mkdtempSync(join(tmpdir(), 'slipway-isolation-'));
const settings: IsolationSettings = {
  names: { network: `slipway_test_${id}`, bridge: `slwt${id}` },
  chainPrefix: `SLWT-${id.toUpperCase()}`,
  cgroupRoot: '/sys/fs/cgroup',
  cgroupParent: `slipway-test-${id}`,
  marker: join(dir, 'run', 'marker.json'),
  resolvConf: '/etc/resolv.conf',
  slots: 2,
  cpus: 1,
  pidsLimit: 64,
  allowPrivate: false,
};
const NETNS = `slwt${id}`;
const VETH = { host: `slwt${id}h`, ns: `slwt${id}n` };
const NETNS_NET = { host: `10.213.${octet}.1`, ns: `10.213.${octet}.2`, linkLocal: `169.254.213.${octet}` };
const HOST_PRIVATE = `192.168.213.${octet}`;

function sh(...argv: string[]): string {
  const r = Bun.spawnSync(argv, { stdout: 'pipe', stderr: 'pipe' });
  if (r.exitCode !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr.toString().trim()}`);
  return r.stdout.toString();
}

function quietly(...argv: string[]): void {
  Bun.spawnSync(argv, { stdout: 'ignore', stderr: 'ignore' });
}

describe.skipIf(!canRun)('build isolation', () => {
  const harness = buildHarness(docker);
  const servers: Server<undefined>[] = [];
  let nsServer: Subprocess | null = null;
  let isolation: BuildIsolation;
  let targets: [string, string][] = [];

  beforeAll(async () => {
    isolation = new BuildIsolation(docker, settings);
    await isolation.prepare();
    const network = await docker.getNetwork(settings.names.network).inspect();
    const gateway = network.IPAM!.Config![0]!.Gateway!;

    // Another "machine": a network namespace behind a veth pair, with a private and a link-local address.
    sh('ip', 'netns', 'add', NETNS);
    sh('ip', 'link', 'add', VETH.host, 'type', 'veth', 'peer', 'name', VETH.ns);
    sh('ip', 'link', 'set', VETH.ns, 'netns', NETNS);
    sh('ip', 'addr', 'add', `${NETNS_NET.host}/30`, 'dev', VETH.host);
    sh('ip', 'link', 'set', VETH.host, 'up');
    sh('ip', '-n', NETNS, 'addr', 'add', `${NETNS_NET.ns}/30`, 'dev', VETH.ns);
    sh('ip', '-n', NETNS, 'addr', 'add', `${NETNS_NET.linkLocal}/32`, 'dev', VETH.ns);
    sh('ip', '-n', NETNS, 'link', 'set', VETH.ns, 'up');
    sh('ip', '-n', NETNS, 'link', 'set', 'lo', 'up');
    sh('ip', '-n', NETNS, 'route', 'add', 'default', 'via', NETNS_NET.host);
    sh('ip', 'route', 'add', `${NETNS_NET.linkLocal}/32`, 'via', NETNS_NET.ns, 'dev', VETH.host);
    nsServer = Bun.spawn(
      [
        'ip',
        'netns',
        'exec',
        NETNS,
        process.execPath,
        '-e',
        `Bun.serve({ hostname: '0.0.0.0', port: 8080, fetch: () => new Response('reached-netns') })`,
      ],
      { stdout: 'ignore', stderr: 'ignore' },
    );
    // Addresses of this host itself: the metadata address and a private one (on the veth's host
    // end; this kernel may lack the dummy interface type).
    sh('ip', 'addr', 'add', '169.254.169.254/32', 'dev', VETH.host);
    sh('ip', 'addr', 'add', `${HOST_PRIVATE}/32`, 'dev', VETH.host);

    const serve = (hostname: string, name: string) => {
      const server = Bun.serve({ hostname, port: 0, fetch: () => new Response(`reached-${name}`) });
      servers.push(server);
      return `http://${hostname}:${server.port}/`;
    };
    targets = [
      ['loopback', serve('127.0.0.1', 'loopback')],
      ['gateway', serve(gateway, 'gateway')],
      ['metadata', serve('169.254.169.254', 'metadata')],
      ['host-private', serve(HOST_PRIVATE, 'host-private')],
      ['link-local', `http://${NETNS_NET.linkLocal}:8080/`],
      ['private', `http://${NETNS_NET.ns}:8080/`],
    ];
    const deadline = Date.now() + 10_000;
    while ((await fetch(`http://${NETNS_NET.ns}:8080/`).catch(() => null)) === null) {
      if (Date.now() > deadline) throw new Error('the server in the network namespace did not start');
      await Bun.sleep(100);
    }
  }, 60_000);

  afterAll(async () => {
    for (const s of servers) s.stop(true);
    nsServer?.kill();
    await nsServer?.exited;
    quietly('ip', 'route', 'del', `${NETNS_NET.linkLocal}/32`);
    quietly('ip', 'netns', 'del', NETNS); // takes the veth pair with it
    quietly('ip', 'link', 'del', VETH.host);
    await harness.cleanup();
    const spec = {
      bridge: settings.names.bridge,
      chainPrefix: settings.chainPrefix,
      allowPrivate: false,
      nameservers: [],
    };
    await removeFirewall(spec);
    await removeBuildNetwork(docker, settings.names);
    const slots = PidsSlots.for({ driver: 'cgroupfs', version: cgroupVersion() }, slotOptions());
    if (slots.ok) slots.slots.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A Dockerfile whose RUN step fetches each target and prints `probe <name> reached|blocked <output>`. */
  function probes(): string {
    const list = targets.map(([name, url]) => `${name}=${url}`).join(' ');
    const loop =
      `for t in ${list}; do name=\${t%%=*}; url=\${t#*=}; ` +
      `if out=$(timeout 5 wget -qO- "$url" 2>&1); then echo "probe $name reached $out"; else echo "probe $name blocked $out"; fi; done; ` +
      'echo "probe ipv6 addresses $(cat /proc/net/if_inet6 2>/dev/null | wc -l)"';
    return `FROM slipway-fixture/static:latest\nRUN echo ${randomUUID()} && ${loop}\n`;
  }

  function probeResults(lines: string[]): Record<string, string> {
    const out: Record<string, string> = {};
    for (const line of lines) {
      const m = /^probe (\S+) (.*)$/.exec(line);
      if (m) out[m[1]!] = m[2]!;
    }
    return out;
  }

  test('from the default bridge, every target on this machine but the host loopback answers', async () => {
    const run = await harness.build({ Dockerfile: probes() }, { sandbox: PLAIN_SANDBOX });
    expect(run.error).toBeUndefined();
    const r = probeResults(run.lines);
    expect(r.loopback).toStartWith('blocked'); // a container's 127.0.0.1 is its own
    for (const name of ['gateway', 'metadata', 'host-private', 'link-local', 'private']) {
      expect({ name, result: r[name] }).toEqual({
        name,
        result: `reached reached-${name === 'link-local' || name === 'private' ? 'netns' : name}`,
      });
    }
  }, 60_000);

  test('from the build network, every one is blocked and the build still succeeds', async () => {
    const lease = await isolation.acquire();
    try {
      const run = await harness.build({ Dockerfile: probes() }, { sandbox: lease.sandbox });
      expect(run.error).toBeUndefined();
      const r = probeResults(run.lines);
      expect(r.loopback).toStartWith('blocked');
      for (const name of ['gateway', 'metadata', 'host-private', 'link-local', 'private']) {
        // "No route to host": the firewall's reject, not a timeout or a closed port.
        expect({ name, result: r[name] }).toEqual({
          name,
          result: expect.stringMatching(/^blocked .*No route to host/),
        });
      }
      expect(r.ipv6).toBe('addresses 0');
    } finally {
      lease.release();
    }
  }, 60_000);

  test('SLIPWAY_BUILD_ALLOW_PRIVATE opens private ranges elsewhere, never this host or link-local', async () => {
    const allowing = new BuildIsolation(docker, { ...settings, allowPrivate: true });
    await allowing.prepare();
    try {
      const lease = await allowing.acquire();
      const run = await harness.build({ Dockerfile: probes() }, { sandbox: lease.sandbox });
      lease.release();
      expect(run.error).toBeUndefined();
      const r = probeResults(run.lines);
      expect(r.private).toBe('reached reached-netns');
      for (const name of ['gateway', 'metadata', 'host-private', 'link-local']) {
        expect({ name, result: r[name] }).toEqual({
          name,
          result: expect.stringMatching(/^blocked .*No route to host/),
        });
      }
    } finally {
      await isolation.prepare(); // back to private ranges blocked, for the other tests
    }
  }, 60_000);

  test('step containers run on the build network with the CPU limit under their slot cgroup', async () => {
    const lease = await isolation.acquire();
    const seen: Promise<unknown>[] = [];
    try {
      const run = await harness.build(
        { Dockerfile: `FROM slipway-fixture/static:latest\nRUN echo ${randomUUID()} && sleep 2\n` },
        {
          sandbox: lease.sandbox,
          onLine: (line) => {
            const m = / ---> Running in ([0-9a-f]{12})$/.exec(line);
            if (m) seen.push(docker.getContainer(m[1]!).inspect());
          },
        },
      );
      expect(run.error).toBeUndefined();
      const info = (await seen[0]) as { HostConfig: Record<string, unknown> };
      expect(info.HostConfig).toMatchObject({
        NetworkMode: settings.names.network,
        CpuPeriod: 100_000,
        CpuQuota: 100_000,
        Memory: 256 * 1024 ** 2,
        CgroupParent: lease.sandbox.processes!.cgroupParent,
      });
    } finally {
      lease.release();
    }
  }, 60_000);

  test('a fork bomb in RUN stops the build at the process limit, and the host stays responsive', async () => {
    const lease = await isolation.acquire();
    const limit = settings.pidsLimit;
    const tasksBefore = hostTasks();
    let maxTasks = tasksBefore;
    let maxLag = 0;
    let last = Date.now();
    const sampler = setInterval(() => {
      const now = Date.now();
      maxLag = Math.max(maxLag, now - last - 20);
      last = now;
      maxTasks = Math.max(maxTasks, hostTasks());
    }, 20);
    try {
      const run = await harness.build(
        {
          // Bounded all the same: the sleep ends it, and the build timeout below backs that up.
          Dockerfile: `FROM slipway-fixture/static:latest\nRUN echo ${randomUUID()}; bomb() { bomb | bomb & }; bomb; sleep 30\n`,
        },
        { sandbox: lease.sandbox, timeoutMs: 60_000 },
      );
      expect(run.error).toBeInstanceOf(BuildProcessLimit);
      expect(run.error!.message).toBe(`Build stopped: it reached the limit of ${limit} processes at step 3/4`);
      expect(run.elapsedMs).toBeLessThan(20_000);
      // The kernel's own account: the slot's processes peaked at the limit, never above.
      const peak = join(
        settings.cgroupRoot,
        'pids',
        settings.cgroupParent,
        lease.sandbox.processes!.cgroupParent.split('/')[2]!,
        'pids.peak',
      );
      if (cgroupVersion() === '1' && existsSync(peak)) expect(Number(readFileSync(peak, 'utf8'))).toBe(limit);
      expect(maxTasks - tasksBefore).toBeLessThan(limit + 100);
      expect(maxLag).toBeLessThan(2000);
    } finally {
      clearInterval(sampler);
      lease.release();
    }
  }, 90_000);

  test('the rules let the host’s name servers through on port 53', () => {
    expect(nameserversOf('nameserver 127.0.0.53\nnameserver 10.0.0.2\n# nameserver 1.1.1.1\nnameserver ::1\n')).toEqual(
      ['10.0.0.2'],
    );
    const out = sh('iptables', '-S', `${settings.chainPrefix}-OUT`);
    for (const ns of nameserversOf(readFileSync('/etc/resolv.conf', 'utf8'))) {
      expect(out).toContain(`-A ${settings.chainPrefix}-OUT -d ${ns}/32 -p udp -m udp --dport 53 -j RETURN`);
    }
  });

  test('a step that fails at once when its fork is refused is still stopped at the process limit', async () => {
    // The shell exits (code 2) on the first refused fork, so the step container is gone long
    // before the next look at the limit: the build's own count has to outlive its containers.
    for (let round = 0; round < 3; round++) {
      const lease = await isolation.acquire();
      try {
        const run = await harness.build(
          { Dockerfile: `FROM slipway-fixture/static:latest\nRUN echo ${randomUUID()}; while :; do sleep 30 & done\n` },
          { sandbox: lease.sandbox, timeoutMs: 60_000 },
        );
        expect(run.error).toBeInstanceOf(BuildProcessLimit);
        expect(run.elapsedMs).toBeLessThan(20_000);
      } finally {
        lease.release();
      }
    }
  }, 90_000);

  test.skipIf(cgroupVersion() !== '1')(
    'a slot’s next build reuses its build cgroup until a build reached the limit there, and prepare removes the empty ones',
    async () => {
      const build = async (line: string) => {
        const lease = await isolation.acquire();
        try {
          const run = await harness.build(
            { Dockerfile: `FROM slipway-fixture/static:latest\nRUN echo ${randomUUID()}; ${line}\n` },
            { sandbox: lease.sandbox, timeoutMs: 60_000 },
          );
          return { parent: lease.sandbox.processes!.cgroupParent, error: run.error };
        } finally {
          lease.release();
        }
      };
      const first = await build('true');
      expect(first.error).toBeUndefined();
      const second = await build('while :; do sleep 30 & done');
      expect(second).toEqual({ parent: first.parent, error: expect.any(BuildProcessLimit) });
      const third = await build('true');
      expect(third.error).toBeUndefined();
      expect(third.parent).not.toBe(first.parent);
      expect(third.parent.split('/').slice(0, 3)).toEqual(first.parent.split('/').slice(0, 3));

      const made = (parent: string) =>
        readdirSync(settings.cgroupRoot).filter((h) => existsSync(join(settings.cgroupRoot, h, parent)));
      expect(made(first.parent)).toContain('pids');
      await isolation.prepare();
      expect([...made(first.parent), ...made(third.parent)]).toEqual([]);
    },
    120_000,
  );

  /** Every task (process or thread) on the host, from /proc/loadavg's "running/total". */
  function hostTasks(): number {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[3]!.split('/')[1]);
  }
});

function cgroupVersion(): string {
  return existsSync('/sys/fs/cgroup/cgroup.controllers') ? '2' : '1';
}

function slotOptions() {
  return { root: settings.cgroupRoot, parent: settings.cgroupParent, count: settings.slots, limit: settings.pidsLimit };
}

describe.skipIf(!canRun)('iptables, as the agent runs it', () => {
  const leftovers = () => readdirSync(tmpdir()).filter((name) => name.startsWith('slipway-iptables-'));

  test('gives its exit code, its output and its errors, and leaves no file behind', async () => {
    const before = leftovers();
    const listed = await runIptables(['-n', '-L', 'DOCKER-USER']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toStartWith('Chain DOCKER-USER');
    const missing = await runIptables(['-n', '-L', `SLWT-MISSING-${id.toUpperCase()}`]);
    expect(missing.code).not.toBe(0);
    // iptables-nft and iptables-legacy word it differently; both name the chain.
    expect(missing.stderr).toContain(`SLWT-MISSING-${id.toUpperCase()}`);
    expect(leftovers()).toEqual(before);
  });
});
