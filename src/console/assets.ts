/**
 * The console's client: a Preact app (src/console/client) bundled for the browser, and its
 * stylesheet. Run from source, the bundle is built on first use with Bun.build and kept in
 * memory; scripts/build.ts builds it once and replaces this module in the executable with one
 * that holds the finished text, so the binary carries the console and never builds at run time.
 */
import { join } from 'node:path';
import css from './client/styles.css' with { type: 'text' };

/** The console's script and stylesheet, as served. */
export interface ConsoleAssets {
  js: string;
  css: string;
}

let built: Promise<ConsoleAssets> | undefined;

/** The bundled client; built once per process when run from source. */
export function consoleAssets(): Promise<ConsoleAssets> {
  built ??= buildClient();
  return built;
}

/** Bundles the client with Bun.build (minified ES module for the browser). */
export async function buildClient(): Promise<ConsoleAssets> {
  const result = await Bun.build({
    entrypoints: [join(import.meta.dir, 'client', 'main.tsx')],
    target: 'browser',
    format: 'esm',
    minify: true,
    define: { 'process.env.NODE_ENV': '"production"' },
    throw: false,
  });
  const output = result.outputs[0];
  if (!result.success || !output) {
    throw new Error(`Cannot build the console: ${result.logs.map((l) => Bun.inspect(l)).join('\n')}`);
  }
  return { js: await output.text(), css };
}
