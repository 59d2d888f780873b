/**
 * The nftables ruleset `slipway install --swarm` loads on every node. Swarm publishes a task's port
 * in host mode on every address of its node, and cannot be told otherwise per service; this table
 * lets only the edge's node (and the node itself) open connections to those ports, and only the
 * cluster's nodes reach Swarm's own ports. It is a table of Slipway's own (`inet slipway_swarm`), so
 * it never edits Docker's or the operator's rules, and loading it again replaces it whole.
 */
import { isIP } from 'node:net';

/** The table's family and name. */
export const FIREWALL_TABLE = 'inet slipway_swarm';

/** Swarm's ports: cluster management (TCP), node gossip (TCP and UDP), overlay traffic (VXLAN, UDP). */
export const SWARM_PORTS = { managementTcp: 2377, gossip: 7946, vxlanUdp: 4789 } as const;

/** What the ruleset is made from; every address is checked by parseAddresses first. */
export interface FirewallSettings {
  /** Addresses (or CIDRs) of the edge's node: the only peers allowed to task ports. */
  edge: string[];
  /** Addresses or CIDRs of the cluster's nodes: the only peers allowed to Swarm's ports. */
  cluster: string[];
  /** The engine's range for published ports without a number (the kernel's ip_local_port_range). */
  portRange: [number, number];
  version: string;
}

/** A bad address or CIDR given to --edge or --cluster. */
export class AddressError extends Error {
  override name = 'AddressError';
}

/**
 * Splits a comma-separated list of IPv4/IPv6 addresses or CIDRs and checks each one, so nothing but
 * an address ever reaches the ruleset's text. Throws AddressError naming the first bad one.
 */
export function parseAddresses(option: string, list: string): string[] {
  const items = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) throw new AddressError(`${option} needs at least one address or CIDR`);
  for (const item of items) {
    const [address = '', prefix, extra] = item.split('/');
    const family = isIP(address);
    const max = family === 6 ? 128 : 32;
    const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= max);
    if (family === 0 || extra !== undefined || !prefixOk) {
      throw new AddressError(`${option}: "${item}" is not an IPv4 or IPv6 address or CIDR`);
    }
  }
  return items;
}

/** The ruleset file's text, loaded with `nft -f`. */
export function firewallRuleset(s: FirewallSettings): string {
  const [low, high] = s.portRange;
  const v4 = (list: string[]) => list.filter((a) => isIP(a.split('/')[0]!) === 4);
  const v6 = (list: string[]) => list.filter((a) => isIP(a.split('/')[0]!) === 6);
  const { managementTcp, gossip, vxlanUdp } = SWARM_PORTS;
  return `#!/usr/sbin/nft -f
# Written by \`slipway install --swarm\` (Slipway ${s.version}); slipway-swarm-firewall.service loads it at boot.
# Swarm publishes task ports (host mode, ${low}-${high}, the engine's range for unnumbered ports) on
# every address of the node: only the edge's node and this node may open connections to them. Swarm's
# own ports (${managementTcp}/tcp, ${gossip}/tcp+udp, ${vxlanUdp}/udp) answer the cluster's nodes only.
# Replies to this node's own connections (which use the same port range) pass as established.
table ${FIREWALL_TABLE}
delete table ${FIREWALL_TABLE}
table ${FIREWALL_TABLE} {
${addressSet('edge4', 'ipv4_addr', v4(s.edge))}
${addressSet('edge6', 'ipv6_addr', v6(s.edge))}
${addressSet('cluster4', 'ipv4_addr', v4(s.cluster))}
${addressSet('cluster6', 'ipv6_addr', v6(s.cluster))}

	chain prerouting {
		# Before Docker's DNAT (priority dstnat, -100) turns a published port into a container's address.
		type filter hook prerouting priority mangle; policy accept;
		ct state established,related accept
		iifname "lo" accept
		fib daddr type local tcp dport ${low}-${high} jump task_ports
		fib daddr type local tcp dport { ${managementTcp}, ${gossip} } jump swarm_ports
		fib daddr type local udp dport { ${gossip}, ${vxlanUdp} } jump swarm_ports
	}

	chain task_ports {
		ip saddr @edge4 accept
		ip6 saddr @edge6 accept
		meta l4proto tcp reject with tcp reset
		drop
	}

	chain swarm_ports {
		ip saddr @cluster4 accept
		ip6 saddr @cluster6 accept
		meta l4proto tcp reject with tcp reset
		drop
	}
}
`;
}

function addressSet(name: string, type: string, items: string[]): string {
  const elements = items.length > 0 ? `; elements = { ${items.join(', ')} }` : '';
  return `\tset ${name} { type ${type}; flags interval${elements}; }`;
}

/** The engine's range for published ports without a number: the kernel's ephemeral range. */
export function parsePortRange(text: string): [number, number] {
  const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(text);
  const [low, high] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  if (!m || low < 1 || high > 65535 || low > high) throw new Error(`Not a port range: "${text.trim()}"`);
  return [low, high];
}
