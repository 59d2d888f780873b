/**
 * The cluster registry's address as SLIPWAY_SWARM_REGISTRY names it: `host[:port]` (HTTPS first,
 * plain HTTP when HTTPS cannot connect, which is what the engine does for a registry listed in
 * its `insecure-registries`), or with an explicit `https://` or `http://` to allow only that one.
 * Pure, so config.ts can parse the setting without loading anything else.
 */

/** Where the cluster registry answers. */
export interface RegistryAddress {
  /** `host[:port]`, lower case: the first part of every image reference pushed there. */
  host: string;
  /** The only scheme to use, or null for HTTPS falling back to HTTP. */
  scheme: 'https' | 'http' | null;
}

const HOST = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::[0-9]{1,5})?$/;

/** Parses the setting; '' is null (no cluster registry). Throws an Error saying what is expected. */
export function parseRegistryAddress(raw: string): RegistryAddress | null {
  if (raw === '') return null;
  const m = /^(?:(https?):\/\/)?([^/]+)\/?$/.exec(raw.toLowerCase());
  const host = m?.[2] ?? '';
  const port = /:([0-9]+)$/.exec(host)?.[1];
  if (
    !m ||
    host.length > 253 ||
    !HOST.test(host) ||
    (port !== undefined && !(Number(port) >= 1 && Number(port) <= 65535))
  ) {
    throw new Error(
      'expected a registry host with an optional port and scheme, e.g. 10.77.0.1:5000 or https://registry.example.com',
    );
  }
  return { host, scheme: (m[1] as 'https' | 'http' | undefined) ?? null };
}
