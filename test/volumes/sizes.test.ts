import { describe, expect, test } from 'bun:test';
import type Docker from 'dockerode';
import { createLogger } from '../../src/log.ts';
import { VolumeSizes } from '../../src/volumes/sizes.ts';

/** An engine whose `docker system df` reports fixed sizes (the caching logic does not depend on Docker). */
const engine = { df: async () => ({ Volumes: [{ Name: 'v-a', UsageData: { Size: 5 } }] }) } as unknown as Docker;

describe("a project's volume total", () => {
  test('reads the list of volume names at most once a second, and sums what was measured', async () => {
    const sizes = new VolumeSizes(engine, createLogger('error'));
    await sizes.refresh();
    let reads = 0;
    const names = () => {
      reads += 1;
      return ['v-a'];
    };
    for (let i = 0; i < 100; i++) expect(sizes.projectTotal('prj_1', names)).toBe(5);
    expect(reads).toBe(1);
    expect(sizes.projectTotal('prj_2', () => [])).toBe(0);
    expect(sizes.projectTotal('prj_3', () => ['v-unknown'])).toBeNull();
    await Bun.sleep(1100);
    sizes.projectTotal('prj_1', names);
    expect(reads).toBe(2);
  });
});
