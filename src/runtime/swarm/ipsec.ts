import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { nodeZlib } from '../../lazy-libraries.ts';

/** Where the kernel's ESP (IPsec) support shows, for `kernelHasEsp`. */
export interface KernelFacts {
  /** /proc/config.gz, unzipped, when the kernel exposes its configuration. */
  config: string | null;
  /** Whether the esp4 module is loaded, or can be (its file exists under /lib/modules). */
  module: boolean;
}

/**
 * Whether encrypted overlay networks can carry traffic on this kernel: they need ESP (IPsec).
 * Docker accepts `--opt encrypted` on a kernel without it, and then tasks silently cannot talk,
 * so Slipway asks the kernel first.
 */
export function kernelHasEsp(facts: KernelFacts = readKernelFacts()): boolean {
  if (facts.module) return true;
  return facts.config !== null && /^CONFIG_INET_ESP=[ym]$/m.test(facts.config);
}

/** Reads the kernel's facts from /proc, /sys and /lib/modules. */
export function readKernelFacts(): KernelFacts {
  let config: string | null = null;
  try {
    config = nodeZlib().gunzipSync(readFileSync('/proc/config.gz')).toString('utf8');
  } catch {
    config = null;
  }
  const dir = `/lib/modules/${release()}/kernel/net/ipv4`;
  const module =
    existsSync('/sys/module/esp4') ||
    ['esp4.ko', 'esp4.ko.xz', 'esp4.ko.zst', 'esp4.ko.gz'].some((f) => existsSync(`${dir}/${f}`));
  return { config, module };
}
