import { describe, expect, test } from 'bun:test';
import { startCertificateLoop } from '../../src/certificates/loop.ts';
import { createLogger } from '../../src/log.ts';

describe('the certificate loop', () => {
  test('runs a pass at once and then every interval, never two at once, and stops', async () => {
    let running = 0;
    let most = 0;
    let passes = 0;
    const lines: string[] = [];
    const loop = startCertificateLoop(
      async () => {
        passes++;
        running++;
        most = Math.max(most, running);
        await Bun.sleep(60);
        running--;
        if (passes === 2) throw new Error('the CA is down');
      },
      createLogger('warn', (l) => void lines.push(l)),
      20,
    );
    expect(passes).toBe(1);
    await Bun.sleep(300);
    await loop.stop();
    const stoppedAt = passes;
    await Bun.sleep(100);
    expect(passes).toBe(stoppedAt);
    expect(passes).toBeGreaterThanOrEqual(3);
    expect(most).toBe(1);
    expect(running).toBe(0);
    expect(lines.some((l) => l.includes('"certificate pass failed"') && l.includes('the CA is down'))).toBe(true);
  });
});
