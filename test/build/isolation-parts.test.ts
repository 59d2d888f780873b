/**
 * The parts of build isolation that need neither root nor an engine: the firewall's rules, the
 * process-limit cgroups on a directory laid out like /sys/fs/cgroup, and the reasons a build is
 * refused. test/build/isolation.test.ts shows them at work on the real host.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import type Docker from 'dockerode';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PidsSlots } from '../../src/build/cgroups.ts';
import { applyFirewall, firewallRules, type Iptables } from '../../src/build/firewall.ts';
import { BuildIsolation, type IsolationSettings } from '../../src/build/isolation.ts';
import { BuildIsolationUnavailable } from '../../src/deployments/failures.ts';

const root = mkdtempSync(join(tmpdir(), 'slipway-isolation-parts-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const REJECT = ['-j', 'REJECT', '--reject-with', 'icmp-admin-prohibited'];

describe('the firewall rules', () => {
  const spec = { bridge: 'br0', chainPrefix: 'SB', allowPrivate: false, nameservers: ['10.0.0.2'] };

  test('reject everything to the host, loopback, link-local, private and redirected traffic; let DNS through', () => {
    expect(firewallRules(spec)).toEqual([
      ['-A', 'SB-IN', ...REJECT],
      ['-A', 'SB-OUT', '-m', 'conntrack', '--ctstate', 'DNAT', ...REJECT],
      ['-A', 'SB-OUT', '-d', '10.0.0.2/32', '-p', 'udp', '--dport', '53', '-j', 'RETURN'],
      ['-A', 'SB-OUT', '-d', '10.0.0.2/32', '-p', 'tcp', '--dport', '53', '-j', 'RETURN'],
      ['-A', 'SB-OUT', '-d', '127.0.0.0/8', ...REJECT],
      ['-A', 'SB-OUT', '-d', '169.254.0.0/16', ...REJECT],
      ['-A', 'SB-OUT', '-d', '10.0.0.0/8', ...REJECT],
      ['-A', 'SB-OUT', '-d', '172.16.0.0/12', ...REJECT],
      ['-A', 'SB-OUT', '-d', '192.168.0.0/16', ...REJECT],
      ['-A', 'SB-OUT', '-d', '100.64.0.0/10', ...REJECT],
      ['-A', 'SB-OUT', '-j', 'RETURN'],
    ]);
  });

  test('with private ranges allowed, still reject the host, loopback and link-local', () => {
    const rules = firewallRules({ ...spec, allowPrivate: true, nameservers: [] });
    expect(rules.map((r) => r.join(' '))).toEqual([
      `-A SB-IN ${REJECT.join(' ')}`,
      `-A SB-OUT -m conntrack --ctstate DNAT ${REJECT.join(' ')}`,
      `-A SB-OUT -d 127.0.0.0/8 ${REJECT.join(' ')}`,
      `-A SB-OUT -d 169.254.0.0/16 ${REJECT.join(' ')}`,
      '-A SB-OUT -j RETURN',
    ]);
  });

  test('are applied into chains of their own, hooked into INPUT and DOCKER-USER once, and left alone when in place', async () => {
    // A tiny iptables: chains of rules, -S lists, -C checks, -A/-I add, -F flushes.
    const table = new Map<string, string[]>([
      ['INPUT', []],
      ['DOCKER-USER', []],
    ]);
    const calls: string[] = [];
    const iptables: Iptables = async (args) => {
      calls.push(args.join(' '));
      const [op, chain, ...rest] = args[0] === '-n' ? args.slice(1) : args;
      const rules = table.get(chain!);
      if (op === '-L') return { code: rules ? 0 : 1, stderr: '' };
      if (op === '-N') {
        if (rules) return { code: 1, stderr: 'Chain already exists.' };
        table.set(chain!, []);
        return { code: 0, stderr: '' };
      }
      if (!rules) return { code: 1, stderr: 'No chain/target/match by that name.' };
      if (op === '-S') return { code: 0, stdout: rules.map((r) => `-A ${chain} ${r}\n`).join(''), stderr: '' };
      if (op === '-C') return { code: rules.includes(rest.join(' ')) ? 0 : 1, stderr: '' };
      if (op === '-F') rules.length = 0;
      if (op === '-A') rules.push(rest.join(' '));
      if (op === '-I') rules.unshift(rest.slice(1).join(' '));
      return { code: 0, stderr: '' };
    };
    await applyFirewall(spec, iptables);
    expect(table.get('INPUT')).toEqual(['-i br0 -j SB-IN']);
    expect(table.get('DOCKER-USER')).toEqual(['-i br0 -j SB-OUT']);
    expect(table.get('SB-OUT')).toHaveLength(10);
    calls.length = 0;
    await applyFirewall(spec, iptables);
    expect(calls.filter((c) => /^-[FAI] /.test(c))).toEqual([]);
    await applyFirewall({ ...spec, allowPrivate: true }, iptables);
    expect(calls.filter((c) => c.startsWith('-F '))).toEqual(['-F SB-IN', '-F SB-OUT']);
    expect(table.get('SB-OUT')).toHaveLength(6);
    expect(table.get('INPUT')).toEqual(['-i br0 -j SB-IN']);
  });

  test('are not applied when Docker runs without iptables', async () => {
    const iptables: Iptables = async () => ({ code: 1, stderr: 'iptables: No chain/target/match by that name.' });
    await expect(applyFirewall(spec, iptables)).rejects.toThrow(
      "cannot see Docker's DOCKER-USER chain (iptables: No chain/target/match by that name.); Slipway needs root, iptables, and dockerd running with iptables enabled",
    );
  });
});

describe('the process-limit cgroups', () => {
  const options = (dir: string) => ({ root: dir, parent: 'sb', count: 2, limit: 100 });

  test('are not made with the systemd cgroup driver, and say why', () => {
    expect(PidsSlots.for({ driver: 'systemd', version: '2' }, options(root))).toEqual({
      ok: false,
      reason:
        'the Docker engine uses the systemd cgroup driver; Slipway sets build process limits only with the cgroupfs driver',
    });
  });

  test('on cgroup v1: one pids cgroup per slot, and below it build cgroups reused until one reached the limit', () => {
    const dir = join(root, 'v1');
    mkdirSync(join(dir, 'pids'), { recursive: true });
    mkdirSync(join(dir, 'memory'), { recursive: true });
    const support = PidsSlots.for({ driver: 'cgroupfs', version: '1' }, options(dir));
    if (!support.ok) throw new Error(support.reason);
    expect(support.slots.problem()).toBe(`the process-limit cgroup ${join(dir, 'pids/sb/0/pids.max')} does not exist`);
    support.slots.prepare();
    expect(support.slots.problem()).toBeNull();
    expect(readFileSync(join(dir, 'pids/sb/1/pids.max'), 'utf8')).toBe('100');

    const build = (name: string) => join(dir, 'pids/sb/0', name);
    const limit = support.slots.limitFor(0);
    expect(limit).toMatchObject({ cgroupParent: '/sb/0/b0', limit: 100 });
    expect(limit.reached()).toBe(false); // the engine makes the build's cgroup with its first step
    mkdirSync(join(build('b0'), 'step'), { recursive: true });
    writeFileSync(join(build('b0'), 'pids.peak'), '99');
    writeFileSync(join(build('b0'), 'step/pids.events'), 'max 0\n');
    expect(limit.reached()).toBe(false);
    expect(support.slots.limitFor(0).cgroupParent).toBe('/sb/0/b0'); // a peak below the limit: reused
    writeFileSync(join(build('b0'), 'pids.peak'), '100');
    expect(limit.reached()).toBe(true);

    // b0 reached the limit: the next build takes b1, where only its own count matters.
    const next = support.slots.limitFor(0);
    expect(next.cgroupParent).toBe('/sb/0/b1');
    mkdirSync(join(build('b1'), 'step'), { recursive: true });
    expect(next.reached()).toBe(false);
    // A kernel without pids.peak: a step container's failed forks.
    writeFileSync(join(build('b1'), 'step/pids.events'), 'max 3\n');
    expect(next.reached()).toBe(true);

    // prepare removes the build cgroups that are empty, in every hierarchy; a busy one stays.
    mkdirSync(join(dir, 'memory/sb/0/b0'), { recursive: true });
    rmSync(build('b0'), { recursive: true });
    mkdirSync(build('b0'));
    support.slots.prepare();
    expect([existsSync(build('b0')), existsSync(join(dir, 'memory/sb/0/b0')), existsSync(build('b1'))]).toEqual([
      false,
      false,
      true,
    ]);

    writeFileSync(join(dir, 'pids/sb/1/pids.max'), 'max');
    expect(support.slots.problem()).toBe(`${join(dir, 'pids/sb/1/pids.max')} is max, not 100`);
  });

  test('on cgroup v2: the pids controller is delegated down to the slots, whose own count is read', () => {
    const dir = join(root, 'v2');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'cgroup.subtree_control'), 'cpu memory');
    // A real kernel creates the control file with the directory; here the test does.
    mkdirSync(join(dir, 'sb'));
    writeFileSync(join(dir, 'sb/cgroup.subtree_control'), '');
    const support = PidsSlots.for({ driver: 'cgroupfs', version: '2' }, options(dir));
    if (!support.ok) throw new Error(support.reason);
    support.slots.prepare();
    expect(readFileSync(join(dir, 'cgroup.subtree_control'), 'utf8')).toBe('+pids');
    expect(readFileSync(join(dir, 'sb/cgroup.subtree_control'), 'utf8')).toBe('+pids');
    expect(readFileSync(join(dir, 'sb/0/pids.max'), 'utf8')).toBe('100');
    writeFileSync(join(dir, 'sb/1/pids.events'), 'max 2\n');
    const limit = support.slots.limitFor(1);
    writeFileSync(join(dir, 'sb/1/pids.events'), 'max 7\n');
    expect(limit.reached()).toBe(true);
  });
});

describe("the process-limit cgroups, made under slipway's umask (0077)", () => {
  const mode = (path: string) => statSync(path).mode & 0o777;

  test.each(['1', '2'] as const)(
    'on cgroup v%s are readable by the agent’s own user, and so become slots made unreadable before',
    (version) => {
      const dir = join(root, `umask-v${version}`);
      const hierarchy = version === '1' ? join(dir, 'pids') : dir;
      mkdirSync(hierarchy, { recursive: true });
      if (version === '2') writeFileSync(join(dir, 'cgroup.subtree_control'), '');
      // Slot 1 left by an older version's prepare: private.
      mkdirSync(join(hierarchy, 'sb/1'), { recursive: true, mode: 0o700 });
      chmodSync(join(hierarchy, 'sb'), 0o700);
      chmodSync(join(hierarchy, 'sb/1'), 0o700);
      // A real kernel creates the control file with the directory; here the test does.
      if (version === '2') writeFileSync(join(dir, 'sb/cgroup.subtree_control'), '');
      const support = PidsSlots.for({ driver: 'cgroupfs', version }, { root: dir, parent: 'sb', count: 2, limit: 100 });
      if (!support.ok) throw new Error(support.reason);
      const before = process.umask(0o077);
      try {
        support.slots.prepare();
      } finally {
        process.umask(before);
      }
      expect([mode(join(hierarchy, 'sb')), mode(join(hierarchy, 'sb/0')), mode(join(hierarchy, 'sb/1'))]).toEqual([
        0o755, 0o755, 0o755,
      ]);
    },
  );
});

describe('a build is refused while the isolation is not in place', () => {
  function settings(dir: string, over: Partial<IsolationSettings> = {}): IsolationSettings {
    return {
      names: { network: 'slipway_build', bridge: 'slipway_build0' },
      chainPrefix: 'SLIPWAY-BUILD',
      cgroupRoot: join(dir, 'cgroup'),
      cgroupParent: 'slipway-build',
      marker: join(dir, 'marker.json'),
      resolvConf: join(dir, 'resolv.conf'),
      slots: 1,
      cpus: 1,
      pidsLimit: 100,
      allowPrivate: false,
      ...over,
    };
  }

  /** An engine whose build network is as given (null: none) and whose cgroup driver is `driver`. */
  function engine(network: object | null, driver = 'cgroupfs'): Docker {
    return {
      getNetwork: () => ({
        inspect: async () => {
          if (network === null) throw Object.assign(new Error('no such network'), { statusCode: 404 });
          return network;
        },
      }),
      info: async () => ({ CgroupDriver: driver, CgroupVersion: '1' }),
    } as unknown as Docker;
  }
  const goodNetwork = {
    Labels: { 'slipway.managed': 'true', 'slipway.role': 'build' },
    Options: { 'com.docker.network.bridge.name': 'slipway_build0', 'com.docker.network.bridge.enable_icc': 'false' },
    EnableIPv6: false,
  };

  async function refusal(isolation: BuildIsolation): Promise<string> {
    const err = await isolation.acquire().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BuildIsolationUnavailable);
    return (err as Error).message;
  }

  const hint = '; run `slipway prepare-builds` as root';

  test('without the build network', async () => {
    const dir = mkdtempSync(join(root, 'a-'));
    expect(await refusal(new BuildIsolation(engine(null), settings(dir)))).toBe(
      `Cannot build: build isolation is not in place (the build network slipway_build does not exist)${hint}`,
    );
  });

  test('when a network of that name is not Slipway’s', async () => {
    const dir = mkdtempSync(join(root, 'b-'));
    expect(await refusal(new BuildIsolation(engine({ ...goodNetwork, Labels: {} }), settings(dir)))).toBe(
      `Cannot build: build isolation is not in place (a network named slipway_build exists that is not Slipway's build network)${hint}`,
    );
  });

  test('without the firewall, or with one set up for other settings', async () => {
    const dir = mkdtempSync(join(root, 'c-'));
    expect(await refusal(new BuildIsolation(engine(goodNetwork), settings(dir)))).toBe(
      `Cannot build: build isolation is not in place (the firewall of the build network is not set up)${hint}`,
    );
    writeFileSync(
      join(dir, 'marker.json'),
      JSON.stringify({ bridge: 'slipway_build0', chainPrefix: 'SLIPWAY-BUILD', allowPrivate: true }),
    );
    expect(await refusal(new BuildIsolation(engine(goodNetwork), settings(dir)))).toBe(
      `Cannot build: build isolation is not in place (the firewall was set up with SLIPWAY_BUILD_ALLOW_PRIVATE=true)${hint}`,
    );
  });

  test('without the process-limit cgroups on a host that can have them, but not on one that cannot', async () => {
    const dir = mkdtempSync(join(root, 'd-'));
    writeFileSync(
      join(dir, 'marker.json'),
      JSON.stringify({ bridge: 'slipway_build0', chainPrefix: 'SLIPWAY-BUILD', allowPrivate: false }),
    );
    expect(await refusal(new BuildIsolation(engine(goodNetwork), settings(dir)))).toBe(
      `Cannot build: build isolation is not in place (the process-limit cgroup ${join(dir, 'cgroup/pids/slipway-build/0/pids.max')} does not exist)${hint}`,
    );
    const lease = await new BuildIsolation(engine(goodNetwork, 'systemd'), settings(dir)).acquire();
    expect(lease.sandbox).toEqual({ network: 'slipway_build', cpus: 1, processes: null });
    expect(lease.unlimitedBecause).toStartWith('the Docker engine uses the systemd cgroup driver');
  });

  test('hands out one slot per concurrent build, and waits for a free one', async () => {
    const dir = mkdtempSync(join(root, 'e-'));
    writeFileSync(
      join(dir, 'marker.json'),
      JSON.stringify({ bridge: 'slipway_build0', chainPrefix: 'SLIPWAY-BUILD', allowPrivate: false }),
    );
    const s = settings(dir, { slots: 2 });
    mkdirSync(join(s.cgroupRoot, 'pids'), { recursive: true });
    const isolation = new BuildIsolation(engine(goodNetwork), s);
    const slots = PidsSlots.for(
      { driver: 'cgroupfs', version: '1' },
      { root: s.cgroupRoot, parent: s.cgroupParent, count: 2, limit: 100 },
    );
    if (slots.ok) slots.slots.prepare();
    const a = await isolation.acquire();
    const b = await isolation.acquire();
    const slot = (parent: string) => parent.split('/').slice(0, 3).join('/');
    expect([slot(a.sandbox.processes!.cgroupParent), slot(b.sandbox.processes!.cgroupParent)]).toEqual([
      '/slipway-build/0',
      '/slipway-build/1',
    ]);
    let third: string | null = null;
    const waiting = isolation.acquire().then((c) => (third = slot(c.sandbox.processes!.cgroupParent)));
    await Bun.sleep(20);
    expect(third).toBeNull();
    b.release();
    b.release(); // a second release is a no-op
    await waiting;
    expect(third as string | null).toBe('/slipway-build/1');
  });
});
