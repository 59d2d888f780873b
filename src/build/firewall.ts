/**
 * The firewall of the build network: iptables rules keeping build steps from the host and from
 * internal networks while they still reach the public internet (package registries).
 *
 * - Traffic from the build bridge to the host itself (any of its addresses, on any interface: the
 *   API, the edge, the engine, other bridges' gateways) meets the INPUT chain, whatever the
 *   destination; Slipway's IN chain rejects all of it.
 * - Traffic the host forwards for the build bridge passes Docker's DOCKER-USER chain first; from
 *   there Slipway's OUT chain rejects loopback, link-local (cloud metadata at 169.254.169.254) and,
 *   unless allowed, private and shared ranges; and anything the host's port publishing redirected
 *   (a published port on a host address becomes a container address by DNAT). The host's name
 *   servers stay reachable on port 53: Docker's embedded DNS forwards the builds' lookups to them.
 *
 * Rejected rather than dropped, so a step fails at once ("No route to host") instead of waiting
 * for a timeout. IPv6 needs no rules: the build network has none, and its containers get no IPv6
 * address at all. The rules are in chains of Slipway's own, refilled when they differ from these.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What the rules are made from. */
export interface FirewallSpec {
  /** The build network's bridge interface. */
  bridge: string;
  /** Slipway's chains are `<prefix>-IN` and `<prefix>-OUT`. */
  chainPrefix: string;
  allowPrivate: boolean;
  /** The host's IPv4 name servers (from /etc/resolv.conf). */
  nameservers: string[];
}

/** Loopback and link-local: never reachable from a build. */
export const ALWAYS_BLOCKED = ['127.0.0.0/8', '169.254.0.0/16'];

/** Private (RFC 1918) and shared (RFC 6598) ranges: blocked unless SLIPWAY_BUILD_ALLOW_PRIVATE. */
export const PRIVATE_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'];

const REJECT = ['-j', 'REJECT', '--reject-with', 'icmp-admin-prohibited'];

/** The iptables argument lists that set the rules up, in order (chains must exist; see applyFirewall). */
export function firewallRules(spec: FirewallSpec): string[][] {
  const { inChain, outChain } = chains(spec);
  const blocked = [...ALWAYS_BLOCKED, ...(spec.allowPrivate ? [] : PRIVATE_RANGES)];
  return [
    ['-A', inChain, ...REJECT],
    ['-A', outChain, '-m', 'conntrack', '--ctstate', 'DNAT', ...REJECT],
    ...spec.nameservers.flatMap((ns) =>
      ['udp', 'tcp'].map((proto) => ['-A', outChain, '-d', `${ns}/32`, '-p', proto, '--dport', '53', '-j', 'RETURN']),
    ),
    ...blocked.map((range) => ['-A', outChain, '-d', range, ...REJECT]),
    ['-A', outChain, '-j', 'RETURN'],
  ];
}

/** The rules that send the bridge's traffic to Slipway's chains (checked with -C, inserted with -I). */
export function hookRules(spec: FirewallSpec): string[][] {
  const { inChain, outChain } = chains(spec);
  return [
    ['INPUT', '-i', spec.bridge, '-j', inChain],
    ['DOCKER-USER', '-i', spec.bridge, '-j', outChain],
  ];
}

/** Runs iptables with `args`; resolves to its exit code and output. */
export type Iptables = (args: string[]) => Promise<{ code: number; stdout?: string; stderr: string }>;

/**
 * iptables itself, from PATH. Its output goes to two files in a private temporary directory, read
 * once it exits, rather than through pipes: reading a pipe takes Bun's stream machinery and its
 * thread pool, which then stay in the agent's memory (about 1 MiB of an idle agent that ran
 * `prepare` at its start) for output of a few lines.
 */
export const runIptables: Iptables = async (args) => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-iptables-'));
  const [out, err] = [join(dir, 'stdout'), join(dir, 'stderr')].map((file) => openSync(file, 'w+', 0o600)) as [
    number,
    number,
  ];
  try {
    let proc: ReturnType<typeof Bun.spawn>;
    try {
      proc = Bun.spawn(['iptables', '-w', ...args], { stdin: 'ignore', stdout: out, stderr: err });
    } catch (error) {
      return { code: 127, stderr: `iptables: ${(error as Error).message}` };
    }
    const code = await proc.exited;
    return {
      code,
      stdout: readFileSync(join(dir, 'stdout'), 'utf8'),
      stderr: readFileSync(join(dir, 'stderr'), 'utf8').trim(),
    };
  } finally {
    closeSync(out);
    closeSync(err);
    rmSync(dir, { recursive: true, force: true });
  }
};

/** Sets up (or resets) the rules; needs root. Throws when iptables or Docker's chain is missing. */
export async function applyFirewall(spec: FirewallSpec, iptables: Iptables = runIptables): Promise<void> {
  const docker = await iptables(['-n', '-L', 'DOCKER-USER']);
  if (docker.code !== 0) {
    throw new Error(
      `cannot see Docker's DOCKER-USER chain (${docker.stderr || `exit ${docker.code}`}); Slipway needs root, iptables, and dockerd running with iptables enabled`,
    );
  }
  const { inChain, outChain } = chains(spec);
  const rules = firewallRules(spec);
  // Rules already as wanted are left alone: a flush would let builds through until the refill.
  if (!(await inPlace(iptables, [inChain, outChain], rules))) {
    for (const chain of [inChain, outChain]) {
      await iptables(['-N', chain]); // fails when it exists, which is fine: it is flushed next
      await must(iptables, ['-F', chain]);
    }
    for (const rule of rules) await must(iptables, rule);
  }
  for (const [chain, ...rule] of hookRules(spec)) {
    if ((await iptables(['-C', chain!, ...rule])).code !== 0) await must(iptables, ['-I', chain!, '1', ...rule]);
  }
}

/** Removes the hooks and chains; for tests, which set up firewalls of their own. */
export async function removeFirewall(spec: FirewallSpec, iptables: Iptables = runIptables): Promise<void> {
  for (const [chain, ...rule] of hookRules(spec)) {
    while ((await iptables(['-D', chain!, ...rule])).code === 0) {}
  }
  const { inChain, outChain } = chains(spec);
  for (const chain of [inChain, outChain]) {
    await iptables(['-F', chain]);
    await iptables(['-X', chain]);
  }
}

/** The IPv4 name servers of a resolv.conf, loopback ones left out (Docker does not use those). */
export function nameserversOf(resolvConf: string): string[] {
  return [...resolvConf.matchAll(/^\s*nameserver\s+(\d+\.\d+\.\d+\.\d+)\s*$/gm)]
    .map((m) => m[1]!)
    .filter((ip) => !ip.startsWith('127.'));
}

/** True when the chains hold exactly `rules` (each found by -C, and no other). */
async function inPlace(iptables: Iptables, names: string[], rules: string[][]): Promise<boolean> {
  for (const chain of names) {
    const listed = await iptables(['-S', chain]);
    if (listed.code !== 0) return false;
    const count = (listed.stdout ?? '').split('\n').filter((l) => l.startsWith(`-A ${chain} `)).length;
    if (count !== rules.filter((r) => r[1] === chain).length) return false;
  }
  for (const [, ...rule] of rules) if ((await iptables(['-C', ...rule])).code !== 0) return false;
  return true;
}

function chains(spec: FirewallSpec) {
  return { inChain: `${spec.chainPrefix}-IN`, outChain: `${spec.chainPrefix}-OUT` };
}

async function must(iptables: Iptables, args: string[]): Promise<void> {
  const { code, stderr } = await iptables(args);
  if (code !== 0) throw new Error(`iptables ${args.join(' ')} failed: ${stderr || `exit ${code}`}`);
}
