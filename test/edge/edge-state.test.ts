import { afterEach, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { edgeStateWriter, readEdgeState, type EdgeState } from '../../src/edge/edge-state.ts';

const STATE_WRITER = `${import.meta.dir}/fixtures/state-writer.ts`;
const dirs: string[] = [];

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function stateFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-edge-state-'));
  dirs.push(dir);
  return join(dir, 'edge-state', 'state.json');
}

const report: EdgeState = {
  applied: { storeId: 'a', version: 3 },
  draining: [{ target: '127.0.0.1:4001', inflight: 2 }],
  stats: { requests: [{ project: 'web', statusClass: '2xx', count: 5 }], latency: [] },
  at: '2025-01-01T00:00:00.000Z',
};

describe("the edge's state file", () => {
  test('is read back as written, with mode 0640 whatever the umask', () => {
    const file = stateFile();
    const umask = process.umask(0o077);
    try {
      edgeStateWriter(file)(report);
    } finally {
      process.umask(umask);
    }
    expect(readEdgeState(file)).toEqual(report);
    expect((statSync(file).mode & 0o7777).toString(8)).toBe('640');
  });

  test('reads as no report when it is missing or is not a report', () => {
    const file = stateFile();
    expect(readEdgeState(file)).toBe(null);
    edgeStateWriter(file)(report);
    for (const text of ['', '{"applied":', 'null', '{"applied":null}']) {
      writeFileSync(file, text);
      expect({ text, state: readEdgeState(file) }).toEqual({ text, state: null });
    }
  });

  test('is never seen half written while the edge replaces it', async () => {
    const file = stateFile();
    const writer = Bun.spawn([process.execPath, STATE_WRITER, file], { stdout: 'pipe' });
    try {
      expect(new TextDecoder().decode((await writer.stdout.getReader().read()).value)).toBe('writing\n');
      const versions = new Set<number>();
      const deadline = Date.now() + 1000;
      while (Date.now() < deadline) {
        const state = readEdgeState(file);
        expect(state?.draining.length).toBe(200);
        versions.add(state!.applied!.version);
        await Bun.sleep(0);
      }
      expect(versions.size).toBeGreaterThan(20); // it really was rewritten under the reader
    } finally {
      writer.kill();
      await writer.exited;
    }
  });
});
