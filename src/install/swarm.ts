/**
 * What `slipway install --swarm` writes on a node of a Swarm cluster: the host settings Swarm cannot
 * set per service. The engine's daemon-wide `no-new-privileges` (services have no such option), and
 * the firewall of swarm-firewall.ts, loaded now and at every boot by a oneshot unit.
 */
import { firewallRuleset, FIREWALL_TABLE, type FirewallSettings } from './swarm-firewall.ts';
import type { Step } from './plan.ts';

/** Where the swarm setup writes; tests point these at a temporary directory. */
export interface SwarmPaths {
  daemonJson: string;
  etcDir: string;
  unitDir: string;
  /** The nft executable the unit runs. */
  nft: string;
}

/** The paths on a real node. */
export const SWARM_PATHS: SwarmPaths = {
  daemonJson: '/etc/docker/daemon.json',
  etcDir: '/etc/slipway',
  unitDir: '/etc/systemd/system',
  nft: '/usr/sbin/nft',
};

/** The unit that loads the firewall at boot. */
export const FIREWALL_UNIT = 'slipway-swarm-firewall.service';

/** The ruleset file. */
export function firewallPath(paths: SwarmPaths): string {
  return `${paths.etcDir}/swarm-firewall.nft`;
}

/** daemon.json that cannot be merged into: it is kept as is and nothing is written. */
export class DaemonJsonError extends Error {
  override name = 'DaemonJsonError';
}

/** What merging `"no-new-privileges": true` into daemon.json gives, and what it changed. */
export interface DaemonJsonMerge {
  /** The new content, or null when the file already says so. */
  content: string | null;
  /** One line for the report. */
  change: string;
}

/**
 * Merges `"no-new-privileges": true` into the text of an existing daemon.json (null: none), keeping
 * every other key and their order. Text that is not a JSON object is refused, never overwritten.
 */
export function mergeDaemonJson(existing: string | null, path: string): DaemonJsonMerge {
  let settings: Record<string, unknown> = {};
  if (existing !== null && existing.trim() !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(existing);
    } catch (err) {
      throw new DaemonJsonError(`${path} is not valid JSON (${(err as Error).message}): fix it, then run this again`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new DaemonJsonError(`${path} does not hold a JSON object: fix it, then run this again`);
    }
    settings = parsed as Record<string, unknown>;
  }
  const before = settings['no-new-privileges'];
  if (before === true) return { content: null, change: `${path} already sets "no-new-privileges": true` };
  const others = Object.keys(settings).filter((k) => k !== 'no-new-privileges');
  const kept = others.length > 0 ? `, keeps ${others.join(', ')}` : '';
  const was = before === undefined ? 'unset' : JSON.stringify(before);
  return {
    content: `${JSON.stringify({ ...settings, 'no-new-privileges': true }, null, 2)}\n`,
    change: `${path}: sets "no-new-privileges": true (was ${was})${kept}`,
  };
}

/** The oneshot unit that loads the ruleset before the engine starts, and removes the table on stop. */
export function firewallUnit(paths: SwarmPaths, version: string): string {
  return `# Written by \`slipway install --swarm\` (Slipway ${version}).
[Unit]
Description=Slipway's Swarm firewall: task ports from the edge only, Swarm's ports between the nodes only
# Loaded before the engine, so that no task port is ever open to everyone.
Before=docker.service
Wants=network-pre.target
After=network-pre.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=${paths.nft} -f ${firewallPath(paths)}
ExecStop=${paths.nft} delete table ${FIREWALL_TABLE}

[Install]
WantedBy=multi-user.target
`;
}

/** What the plan needs to know of the host. */
export interface SwarmFacts {
  /** The text of daemon.json, or null when there is none. */
  daemonJson: string | null;
  /** Why systemctl cannot be used, or null. */
  systemdMissing: string | null;
}

/** The steps of `slipway install --swarm`, and the daemon.json change for the report. */
export function swarmPlan(
  facts: SwarmFacts,
  firewall: FirewallSettings,
  paths: SwarmPaths = SWARM_PATHS,
): { steps: Step[]; daemonChange: string } {
  const merge = mergeDaemonJson(facts.daemonJson, paths.daemonJson);
  const skip = facts.systemdMissing ? { skip: facts.systemdMissing } : {};
  const steps: Step[] = [
    merge.content === null
      ? { kind: 'keep', path: paths.daemonJson, why: 'it already sets "no-new-privileges": true' }
      : { kind: 'write', path: paths.daemonJson, mode: 0o644, content: merge.content },
    { kind: 'mkdir', path: paths.etcDir, mode: 0o755 },
    { kind: 'write', path: firewallPath(paths), mode: 0o644, content: firewallRuleset(firewall) },
    { kind: 'run', argv: [paths.nft, '-f', firewallPath(paths)] },
    {
      kind: 'write',
      path: `${paths.unitDir}/${FIREWALL_UNIT}`,
      mode: 0o644,
      content: firewallUnit(paths, firewall.version),
    },
    { kind: 'run', argv: ['systemctl', 'daemon-reload'], ...skip },
    { kind: 'run', argv: ['systemctl', 'enable', FIREWALL_UNIT], ...skip },
  ];
  return { steps, daemonChange: merge.change };
}
