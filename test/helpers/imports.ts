import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';

/** Where the modules walked by importClosure live. */
export const SRC = resolve(import.meta.dir, '../../src');

/** Every module of src/ that `entry` loads, following its imports (type-only imports load nothing). */
export function importClosure(entry: string): Set<string> {
  const transpiler = new Bun.Transpiler({ loader: 'ts' });
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    if (!file.endsWith('.ts')) return; // package.json, SQL files: data, not code
    for (const { path } of transpiler.scanImports(readFileSync(file, 'utf8'))) {
      if (path.startsWith('.')) visit(resolve(dirname(file), path));
    }
  };
  visit(resolve(SRC, entry));
  return new Set([...seen].map((f) => relative(SRC, f)));
}

/** The packages and built-ins that the modules of src/ named in `modules` import at their top (not by require() or import()). */
export function staticImports(modules: Iterable<string>): Set<string> {
  const transpiler = new Bun.Transpiler({ loader: 'ts' });
  const found = new Set<string>();
  for (const module of modules) {
    if (!module.endsWith('.ts')) continue;
    for (const { path, kind } of transpiler.scanImports(readFileSync(resolve(SRC, module), 'utf8')))
      if (!path.startsWith('.') && kind === 'import-statement') found.add(path);
  }
  return found;
}
