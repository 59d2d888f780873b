/**
 * `slipway install --swarm`: the daemon.json merge, the files the plan writes, the firewall's text
 * checked by nft, and the firewall applied in network namespaces of the test's own, where a peer that
 * is not the edge is refused at a task port and the edge's address gets through.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { applyPlan } from '../../src/install/apply.ts';
import {
  DaemonJsonError,
  FIREWALL_UNIT,
  firewallPath,
  firewallUnit,
  mergeDaemonJson,
  SWARM_PATHS,
  swarmPlan,
  type SwarmPaths,
} from '../../src/install/swarm.ts';
import { AddressError, firewallRuleset, parseAddresses, parsePortRange } from '../../src/install/swarm-firewall.ts';
import { requireRoot } from '../helpers/root.ts';
import { runCli } from '../cli/harness.ts';

const FIXTURES = resolve(import.meta.dir, 'fixtures');
const RANGE: [number, number] = [32768, 60999];

function rootDir(): SwarmPaths {
  const root = mkdtempSync(join(tmpdir(), 'slipway-swarm-install-'));
  return {
    daemonJson: join(root, 'etc/docker/daemon.json'),
    etcDir: join(root, 'etc/slipway'),
    unitDir: join(root, 'etc/systemd/system'),
    nft: '/usr/sbin/nft',
  };
}

describe('merging no-new-privileges into daemon.json', () => {
  test('keeps every other key, in order, and says what it changed', () => {
    const existing = '{"log-driver": "journald", "insecure-registries": ["10.0.0.1:5000"], "no-new-privileges": false}';
    const merge = mergeDaemonJson(existing, '/etc/docker/daemon.json');
    expect(merge.content).toBe(
      `${JSON.stringify({ 'log-driver': 'journald', 'insecure-registries': ['10.0.0.1:5000'], 'no-new-privileges': true }, null, 2)}\n`,
    );
    expect(merge.change).toBe(
      '/etc/docker/daemon.json: sets "no-new-privileges": true (was false), keeps log-driver, insecure-registries',
    );
  });

  test('writes a new file when there is none or it is empty, and leaves one that already says so', () => {
    expect(mergeDaemonJson(null, 'd.json').content).toBe('{\n  "no-new-privileges": true\n}\n');
    expect(mergeDaemonJson('  \n', 'd.json').content).toBe('{\n  "no-new-privileges": true\n}\n');
    expect(mergeDaemonJson('{"no-new-privileges": true, "debug": true}', 'd.json')).toEqual({
      content: null,
      change: 'd.json already sets "no-new-privileges": true',
    });
  });

  test.each([
    ['{"debug": true,', 'd.json is not valid JSON'],
    ['["no-new-privileges"]', 'd.json does not hold a JSON object: fix it, then run this again'],
    ['null', 'd.json does not hold a JSON object: fix it, then run this again'],
  ])('refuses to overwrite %j', (text, message) => {
    expect(() => mergeDaemonJson(text, 'd.json')).toThrow(DaemonJsonError);
    expect(() => mergeDaemonJson(text, 'd.json')).toThrow(message);
  });
});

describe('the firewall unit', () => {
  test('passes systemd-analyze verify without a single warning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-fw-unit-'));
    writeFileSync(join(dir, FIREWALL_UNIT), firewallUnit(SWARM_PATHS, '0.1.0'));
    const r = Bun.spawnSync(['systemd-analyze', 'verify', `./${FIREWALL_UNIT}`], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', SYSTEMD_COLORS: '0' },
    });
    expect({ code: r.exitCode, out: `${r.stdout}${r.stderr}` }).toEqual({ code: 0, out: '' });
  });
});

describe('the firewall settings', () => {
  test.each([
    ['10.0.0.1; flush ruleset', '"10.0.0.1; flush ruleset" is not an IPv4 or IPv6 address or CIDR'],
    ['10.0.0.0/33', '"10.0.0.0/33" is not an IPv4 or IPv6 address or CIDR'],
    ['fd00::/129', '"fd00::/129" is not an IPv4 or IPv6 address or CIDR'],
    ['10.0.0.0/24/8', '"10.0.0.0/24/8" is not an IPv4 or IPv6 address or CIDR'],
    ['edge.example.com', '"edge.example.com" is not an IPv4 or IPv6 address or CIDR'],
    [' , ', '--edge needs at least one address or CIDR'],
  ])('refuses %j as an address', (list, message) => {
    expect(() => parseAddresses('--edge', list)).toThrow(AddressError);
    expect(() => parseAddresses('--edge', list)).toThrow(message);
  });

  test('accepts IPv4 and IPv6 addresses and CIDRs, and reads the kernel port range', () => {
    expect(parseAddresses('--cluster', '10.0.0.0/24, fd00::1,192.168.1.7/32')).toEqual([
      '10.0.0.0/24',
      'fd00::1',
      '192.168.1.7/32',
    ]);
    expect(parsePortRange('32768\t60999\n')).toEqual([32768, 60999]);
    expect(() => parsePortRange('60999 32768')).toThrow('Not a port range: "60999 32768"');
  });
});

describe.skipIf(!requireRoot('the swarm install tests'))('the swarm install plan', () => {
  test('writes the merged daemon.json, the ruleset and its unit, and loads the ruleset with nft', async () => {
    const paths = rootDir();
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(paths.daemonJson, '..'), { recursive: true });
    writeFileSync(paths.daemonJson, '{"data-root": "/srv/docker"}');
    const { steps, daemonChange } = swarmPlan(
      { daemonJson: readFileSync(paths.daemonJson, 'utf8'), systemdMissing: 'systemd is not running: PID 1 is sh' },
      { edge: ['10.0.0.10'], cluster: ['10.0.0.0/24'], portRange: RANGE, version: '9.9.9' },
      paths,
    );
    expect(daemonChange).toBe(`${paths.daemonJson}: sets "no-new-privileges": true (was unset), keeps data-root`);
    const commands: string[][] = [];
    const reported: string[] = [];
    await applyPlan(steps, {
      report: (line) => reported.push(line),
      run: (argv) => {
        commands.push(argv);
        return { status: 0, output: '' };
      },
      docker: () => {
        throw new Error('not needed');
      },
      agent: () => null,
    });
    expect(JSON.parse(readFileSync(paths.daemonJson, 'utf8'))).toEqual({
      'data-root': '/srv/docker',
      'no-new-privileges': true,
    });
    expect(readFileSync(firewallPath(paths), 'utf8')).toContain('elements = { 10.0.0.10 }');
    const unit = readFileSync(join(paths.unitDir, FIREWALL_UNIT), 'utf8');
    expect(unit).toContain(`ExecStart=/usr/sbin/nft -f ${firewallPath(paths)}`);
    expect(unit).toContain('Before=docker.service');
    expect(commands).toEqual([['/usr/sbin/nft', '-f', firewallPath(paths)]]);
    expect(reported.filter((l) => l.startsWith('skip'))).toEqual([
      'skip   systemctl daemon-reload (systemd is not running: PID 1 is sh)',
      `skip   systemctl enable ${FIREWALL_UNIT} (systemd is not running: PID 1 is sh)`,
    ]);
  });

  test('a daemon.json that is not JSON stops the CLI before anything is written', async () => {
    const paths = rootDir();
    const { installSwarm } = await import('../../src/cli/install-swarm.ts');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(paths.daemonJson, '..'), { recursive: true });
    writeFileSync(paths.daemonJson, '{"debug": tru');
    const lines: string[] = [];
    const io = { stdout: { write: (s: string) => lines.push(s) } } as unknown as Parameters<typeof installSwarm>[0];
    await expect(installSwarm(io, { cluster: '10.0.0.0/24', edge: '10.0.0.10' }, paths)).rejects.toThrow(
      `Cannot set up this node: ${paths.daemonJson} is not valid JSON`,
    );
    expect(readFileSync(paths.daemonJson, 'utf8')).toBe('{"debug": tru');
    expect(lines).toEqual([]);
  });

  test('--dry-run prints the daemon.json change and the ruleset, and a bad --edge is a usage error', async () => {
    const dry = await runCli(['install', '--swarm', '--dry-run', '--edge', '10.0.0.10', '--cluster', '10.0.0.0/24']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('Dry run of `slipway install --swarm`: nothing is changed.');
    expect(dry.stdout).toContain('swarm  ports 2377/tcp, 7946/tcp+udp, 4789/udp open to 10.0.0.0/24 only');
    expect(dry.stdout).toContain('write  /etc/slipway/swarm-firewall.nft (mode 0644):');
    expect(dry.stdout).toContain('run    /usr/sbin/nft -f /etc/slipway/swarm-firewall.nft');
    const bad = await runCli(['install', '--swarm', '--edge', '10.0.0.10 accept', '--cluster', '10.0.0.0/24']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--edge: "10.0.0.10 accept" is not an IPv4 or IPv6 address or CIDR');
    const alone = await runCli(['install', '--edge', '10.0.0.10']);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('--edge and --cluster go with --swarm');
  });
});

describe.skipIf(!requireRoot('the firewall tests'))('the firewall in network namespaces', () => {
  const tag = `${process.pid % 10000}${Math.floor(Math.random() * 90 + 10)}`;
  const node = `slwfw-node-${tag}`;
  const peer = `slwfw-peer-${tag}`;
  const spawned: Bun.Subprocess[] = [];
  let rules = '';

  const sh = (argv: string[]) => {
    const r = Bun.spawnSync(argv, { stderr: 'pipe', stdout: 'pipe' });
    if (r.exitCode !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr.toString()}`);
    return r.stdout.toString();
  };
  const inNs = (ns: string, argv: string[]) => ['ip', 'netns', 'exec', ns, ...argv];
  const listen = async (ns: string, ports: number[]) => {
    const proc = Bun.spawn(inNs(ns, [process.execPath, join(FIXTURES, 'tcp-listen.ts'), ...ports.map(String)]), {
      stdout: 'pipe',
      stderr: 'inherit',
    });
    spawned.push(proc);
    const reader = proc.stdout.getReader();
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toContain('ready');
  };
  const probe = (ns: string, probes: string[]) =>
    JSON.parse(sh(inNs(ns, [process.execPath, join(FIXTURES, 'tcp-probe.ts'), ...probes]))) as string[];

  beforeAll(async () => {
    sh(['ip', 'netns', 'add', node]);
    sh(['ip', 'netns', 'add', peer]);
    sh(['ip', '-n', node, 'link', 'add', `fw${tag}a`, 'type', 'veth', 'peer', 'name', `fw${tag}b`, 'netns', peer]);
    sh(['ip', '-n', node, 'addr', 'add', '10.98.0.1/24', 'dev', `fw${tag}a`]);
    for (const host of [2, 3, 4]) sh(['ip', '-n', peer, 'addr', 'add', `10.98.0.${host}/24`, 'dev', `fw${tag}b`]);
    for (const [ns, dev] of [
      [node, `fw${tag}a`],
      [peer, `fw${tag}b`],
    ] as const) {
      sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      sh(['ip', '-n', ns, 'link', 'set', dev, 'up']);
    }
    // The edge is 10.98.0.2; the cluster is the edge and 10.98.0.4; 10.98.0.3 is anyone else.
    rules = join(mkdtempSync(join(tmpdir(), 'slipway-fw-')), 'swarm-firewall.nft');
    writeFileSync(
      rules,
      firewallRuleset({ edge: ['10.98.0.2'], cluster: ['10.98.0.2', '10.98.0.4/32'], portRange: RANGE, version: 't' }),
    );
    await listen(node, [40000, 2377, 8080]);
    await listen(peer, [9090]);
  });

  afterAll(() => {
    for (const proc of spawned) proc.kill();
    for (const ns of [node, peer]) Bun.spawnSync(['ip', 'netns', 'del', ns]);
  });

  test('the ruleset passes nft -c', () => {
    expect(Bun.spawnSync(inNs(node, ['nft', '-c', '-f', rules]), { stderr: 'pipe' }).stderr.toString()).toBe('');
  });

  test('without it any peer reaches a task port; with it only the edge does, and Swarm ports only the cluster', () => {
    const probes = [
      '10.98.0.2@10.98.0.1:40000',
      '10.98.0.3@10.98.0.1:40000',
      '10.98.0.4@10.98.0.1:40000',
      '10.98.0.4@10.98.0.1:2377',
      '10.98.0.3@10.98.0.1:2377',
      '10.98.0.3@10.98.0.1:8080',
    ];
    expect(probe(peer, probes)).toEqual(['ok 40000', 'ok 40000', 'ok 40000', 'ok 2377', 'ok 2377', 'ok 8080']);
    sh(inNs(node, ['nft', '-f', rules]));
    expect(probe(peer, probes)).toEqual(['ok 40000', 'refused', 'refused', 'ok 2377', 'refused', 'ok 8080']);
  });

  test("the node itself still reaches its task ports, and its own connections' replies come back", () => {
    sh(inNs(node, ['nft', '-f', rules]));
    expect(probe(node, ['any@127.0.0.1:40000', 'any@10.98.0.1:40000', 'any@10.98.0.2:9090'])).toEqual([
      'ok 40000',
      'ok 40000',
      'ok 9090',
    ]);
  });

  test("a published port is filtered before Docker's DNAT rewrites it to the container's address and port", () => {
    // What Docker does for a published port: a nat rule at priority dstnat sends it elsewhere (here
    // to 8080, outside the task range and open to everyone, as a container's port would be).
    const dnat = join(mkdtempSync(join(tmpdir(), 'slipway-fw-')), 'dnat.nft');
    writeFileSync(
      dnat,
      'table ip dockerlike {\n\tchain pre {\n\t\ttype nat hook prerouting priority dstnat;\n\t\ttcp dport 40001 dnat to 10.98.0.1:8080\n\t}\n}\n',
    );
    sh(inNs(node, ['nft', '-f', dnat]));
    sh(inNs(node, ['nft', '-f', rules]));
    expect(probe(peer, ['10.98.0.2@10.98.0.1:40001', '10.98.0.3@10.98.0.1:40001'])).toEqual(['ok 8080', 'refused']);
  });

  test('loading the ruleset again replaces its table and leaves the other tables alone', () => {
    sh(inNs(node, ['nft', '-f', rules]));
    sh(inNs(node, ['nft', '-f', rules]));
    const tables = sh(inNs(node, ['nft', 'list', 'tables']))
      .trim()
      .split('\n');
    // One table of its own; Docker's (here the stand-in's) is left alone.
    expect(tables).toEqual(['table ip dockerlike', 'table inet slipway_swarm']);
    expect(sh(inNs(node, ['nft', 'list', 'chain', 'inet', 'slipway_swarm', 'task_ports']))).toContain(
      'ip saddr @edge4 accept',
    );
  });
});
