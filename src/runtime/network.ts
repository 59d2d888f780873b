import type Docker from 'dockerode';
import { labelFilter, networkLabels } from './labels.ts';
import { firstFreeSubnet, formatIpv4Range, hostRoutes, type Ipv4Range, parseIpv4Range } from './subnets.ts';

/** The name of a project's private Docker network. */
export function networkName(project: string): string {
  return `slipway-${project}`;
}

/**
 * Creates the project's bridge network if it does not exist; returns its name. With a `pool`, the
 * network gets the pool's first free /24 (see subnets.ts); without, the engine picks its subnet.
 */
export async function ensureProjectNetwork(docker: Docker, project: string, pool: Ipv4Range | null): Promise<string> {
  const name = networkName(project);
  const found = await docker.listNetworks({ filters: { name: [name], label: labelFilter({}) } });
  if (found.some((n) => n.Name === name)) return name;
  const create = (subnet: Ipv4Range | null) =>
    docker.createNetwork({
      Name: name,
      Driver: 'bridge',
      CheckDuplicate: true,
      Labels: networkLabels(project),
      ...(subnet && { IPAM: { Driver: 'default', Config: [{ Subnet: formatIpv4Range(subnet) }] } }),
    });
  try {
    await (pool ? createInPool(docker, pool, create) : create(null));
  } catch (err) {
    // Another deployment of the same project may have created it a moment ago.
    if ((err as { statusCode?: number }).statusCode !== 409) throw err;
  }
  return name;
}

/** How many free-looking subnets are tried when the engine refuses one as taken meanwhile. */
const SUBNET_TRIES = 5;

/**
 * Creates the network on the pool's first /24 that no network of the engine and no route of the
 * host overlaps. Another network made at the same moment may take it first; the engine then
 * refuses it (an overlapping pool) and the next one is tried.
 */
async function createInPool(docker: Docker, pool: Ipv4Range, create: (subnet: Ipv4Range) => Promise<unknown>) {
  const taken = [...(await engineSubnets(docker)), ...hostRoutes()];
  const refused: Ipv4Range[] = [];
  for (let attempt = 1; ; attempt++) {
    const subnet = firstFreeSubnet(pool, taken, refused);
    if (!subnet) {
      throw new Error(
        `No free /24 is left in the project network pool ${formatIpv4Range(pool)} (SLIPWAY_PROJECT_SUBNETS)`,
      );
    }
    try {
      return await create(subnet);
    } catch (err) {
      if (attempt >= SUBNET_TRIES || !overlapRefusal(err)) throw err;
      refused.push(subnet);
    }
  }
}

/** The IPv4 subnets of every network the engine has, Slipway's or not. */
async function engineSubnets(docker: Docker): Promise<Ipv4Range[]> {
  const networks = await docker.listNetworks();
  return networks
    .flatMap((n) => n.IPAM?.Config ?? [])
    .map((c) => parseIpv4Range(c.Subnet ?? ''))
    .filter((r): r is Ipv4Range => r !== null);
}

/** The engine's answer to a subnet another network has: 403 "Pool overlaps with other one…". */
function overlapRefusal(err: unknown): boolean {
  const e = err as { statusCode?: number; message?: string };
  return e.statusCode === 403 && /overlap/i.test(e.message ?? '');
}

/** Removes the project's network (one in use or already gone is left alone). */
export async function removeProjectNetwork(docker: Docker, project: string): Promise<void> {
  const name = networkName(project);
  await docker
    .getNetwork(name)
    .remove()
    .catch(() => {});
}
