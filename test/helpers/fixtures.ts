import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tgzOf, type TestEntry } from './archives.ts';

const FIXTURES = resolve(import.meta.dir, '../fixtures');

/** A fixture app directory as a tar.gz, with extra or replaced files (e.g. VERSION, MODE). */
export function fixtureTgz(name: string, extra: Record<string, string> = {}): Buffer {
  const dir = join(FIXTURES, name);
  const entries: TestEntry[] = readdirSync(dir)
    .filter((f) => !(f in extra))
    .map((f) => ({ name: f, body: readFileSync(join(dir, f)) }));
  for (const [name, body] of Object.entries(extra)) entries.push({ name, body });
  return tgzOf(entries);
}

/** Result of a load loop: every response's status and body, and thrown errors. */
export interface LoadResult {
  ok: number;
  failures: string[];
  bodies: string[];
}

/**
 * Sends requests from `concurrency` loops until stop() is called; every non-2xx status or
 * network error counts as a failure. Bounded: at most `maxRequests` in all.
 */
export function constantLoad(
  url: string,
  host: string,
  concurrency = 4,
  maxRequests = 200_000,
): { stop(): Promise<LoadResult> } {
  const result: LoadResult = { ok: 0, failures: [], bodies: [] };
  let running = true;
  let sent = 0;
  const loop = async () => {
    while (running && sent++ < maxRequests) {
      try {
        const res = await fetch(url, { headers: { host } });
        const body = await res.text();
        if (res.status >= 200 && res.status < 300) {
          result.ok++;
          if (result.bodies.at(-1) !== body) result.bodies.push(body);
        } else result.failures.push(`HTTP ${res.status}: ${body.slice(0, 100)}`);
      } catch (err) {
        result.failures.push(String(err));
      }
    }
  };
  const loops = Array.from({ length: concurrency }, loop);
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return result;
    },
  };
}
