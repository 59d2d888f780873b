import { describe, expect, test } from 'bun:test';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { removeDataDir, startAgent } from '../helpers/agent.ts';
import { importClosure, SRC } from '../helpers/imports.ts';

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe('slipway serve --role edge', () => {
  test('starts from a module that cannot reach slipway.db, the master key or the admin token', () => {
    const edge = importClosure('cli/serve-edge.ts');
    expect(edge.has('edge/route-store-reader.ts')).toBe(true); // the walk does follow imports
    expect(edge.has('edge/route-store-writer.ts')).toBe(false); // the edge only reads routes
    const reachable = [...edge].filter(
      (m) => m === 'deps.ts' || m.startsWith('db/') || m.startsWith('secrets/') || m.startsWith('tokens/'),
    );
    expect(reachable).toEqual([]);
    // The API's entry point, by contrast, reaches all of them.
    const api = importClosure('cli/serve-api.ts');
    expect(
      ['deps.ts', 'db/open.ts', 'secrets/master-key.ts', 'tokens/bootstrap.ts'].filter((m) => !api.has(m)),
    ).toEqual([]);
  });

  test('loads the API only for the roles that run it: serve.ts imports each role on demand', () => {
    // Static imports only: `import()` inside serve() is what keeps the API out of an edge process.
    const transpiler = new Bun.Transpiler({ loader: 'ts' });
    const imports = transpiler.scanImports(readFileSync(resolve(SRC, 'cli/serve.ts'), 'utf8'));
    const eager = imports.filter((i) => i.kind !== 'dynamic-import').map((i) => i.path);
    const lazy = imports.filter((i) => i.kind === 'dynamic-import').map((i) => i.path);
    expect(eager).toEqual(['../config.ts']);
    // The agent's first engine ping (runtime/docker.ts, without dockerode) starts before serve-api.ts loads.
    expect(lazy.sort()).toEqual(['../runtime/docker.ts', './serve-api.ts', './serve-edge.ts']);
  });

  test('imports neither node:net, node:stream, node:http nor node:tls, and writes nothing through process.stderr or stdout', () => {
    // Each costs an idle edge megabytes for its whole life (README, "Idle memory"); a WebSocket's
    // upgrade, the node engine and HTTPS load them on first use (src/lazy-libraries.ts).
    const transpiler = new Bun.Transpiler({ loader: 'ts' });
    const edge = [...importClosure('cli/serve-edge.ts')].filter((m) => m.endsWith('.ts'));
    const builtins = new Set<string>();
    const streams: string[] = [];
    for (const module of edge) {
      const source = readFileSync(resolve(SRC, module), 'utf8');
      // Static imports only: a require() inside a function (src/lazy-libraries.ts) runs on first use.
      for (const { path, kind } of transpiler.scanImports(source))
        if (path.startsWith('node:') && kind === 'import-statement') builtins.add(path);
      if (/process\.std(err|out)\b/.test(transpiler.transformSync(source))) streams.push(module);
    }
    expect(builtins.has('node:fs')).toBe(true); // the scan does see the edge's builtins
    expect([...builtins].filter((b) => ['node:net', 'node:stream', 'node:http', 'node:tls'].includes(b))).toEqual([]);
    expect(streams).toEqual([]);
  });

  test('on an empty data directory creates its state file and nothing else', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'slipway-edge-only-'));
    const edge = await startAgent({ dataDir, role: 'edge' });
    try {
      const res = await fetch(`http://127.0.0.1:${edge.edgePort}/`, { headers: { host: 'web.localhost' } });
      expect(res.status).toBe(404);
      await Bun.sleep(300);
      expect(filesUnder(dataDir)).toEqual(['edge-state/state.json']);
    } finally {
      expect(await edge.stop()).toBe(0);
      removeDataDir(dataDir);
    }
  });
});
