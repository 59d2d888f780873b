/**
 * For tests that change the host (iptables rules, cgroups, network interfaces): true when running
 * as root; locally, false with a warning; in CI, which runs as root, a missing root is a broken
 * setup and throws rather than skip.
 */
export function requireRoot(what: string): boolean {
  if (process.getuid?.() === 0) return true;
  if (process.env.CI === 'true') throw new Error(`${what} needs root, and CI must run as root`);
  console.warn(`Skipping ${what}: it needs root`);
  return false;
}
