/**
 * A build plugin that defers work a start never needs to its first use.
 *
 * dockerode loads BuildKit's session support (`@grpc/grpc-js`, `@grpc/proto-loader`) and
 * docker-modem loads `ssh2` when they are imported, but Slipway builds with the classic builder
 * (`version: '1'`, src/build/builder.ts) and talks to the engine over a Unix socket or TCP, so neither
 * is ever called. Evaluating them cost about 60 ms of `serve`'s start and 10 MiB of RSS. Each of those
 * rewrites turns a top-level `require` into a function that requires on call: the module is still
 * bundled (so a future use still works), it is just evaluated on demand.
 *
 * Elysia's `t.Integer`, `t.Numeric`, `t.BooleanString` and friends compile a TypeBox checker (a
 * `new Function`) the moment a schema is declared, for the value they decode from a query string;
 * the API declares 47 `t.Integer`s at import time, 1-2 ms each on the shared machine. The rewrite
 * makes Elysia's `compile` helper compile on the first check instead; nothing else changes (its
 * callers use only `Check`, `Decode` and `Error`).
 *
 * commander imports `node:child_process` for executable subcommands (Slipway has none) and
 * `node:util` for `stripVTControlCharacters`, which it calls on help text to measure and strip
 * escape sequences; loading the two is about 3 ms of every CLI start's ~25. The rewrites load
 * `node:child_process` on a spawn and `node:util` only for text holding an ESC or CSI byte, where
 * every sequence it removes starts (text without one comes back unchanged, as from node:util).
 *
 * better-sqlite3's linux-x64 entry loads its addon from the file src/db/sqlite-addon.ts names: a
 * copy made once outside the executable, so a start does not read the embedded 2.2 MiB (Bun would
 * extract it to /tmp on every start, and the pages read stay resident).
 *
 * The text rewritten is checked: when an upgrade changes it, the build fails instead of silently
 * doing the work eagerly again.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BunPlugin } from 'bun';

const SQLITE_ADDON = join(import.meta.dir, '..', 'src', 'db', 'sqlite-addon.ts');
const SQLITE_ADDON_FILE = join(import.meta.dir, 'sqlite-addon-file.ts');

interface Rewrite {
  /** The file, as the end of its path. */
  file: RegExp;
  /** The exact text of the eager require, and its lazy replacement. */
  from: string;
  to: string;
}

export const REWRITES: Rewrite[] = [
  {
    file: /node_modules\/better-sqlite3\/lib\/linux-x64\.js$/,
    from: "require('../prebuilds/linux-x64.node')",
    to: `require(require(${JSON.stringify(SQLITE_ADDON)}).addonFile(require(${JSON.stringify(SQLITE_ADDON_FILE)}).default))`,
  },
  {
    file: /node_modules\/dockerode\/lib\/docker\.js$/,
    from: "withSession = require('./session'),",
    to: "withSession = function () { return require('./session').apply(this, arguments); },",
  },
  {
    file: /node_modules\/docker-modem\/lib\/modem\.js$/,
    from: "ssh = require('./ssh'),",
    to: 'ssh = function (opt) { return require("./ssh")(opt); },',
  },
  {
    file: /node_modules\/elysia\/dist\/type-system\/utils\.mjs$/,
    from: 'const compile = (schema) => {\n  try {',
    to: [
      'const compile = (schema) => {',
      '  let compiled;',
      '  const now = () => compiled || (compiled = compileNow(schema));',
      '  return {',
      '    Check: (v) => now().Check(v),',
      '    Decode: (v) => now().Decode(v),',
      '    Error: (v) => now().Error(v),',
      '    Errors: (v) => now().Errors(v),',
      '    Create: () => now().Create(),',
      '  };',
      '}, compileNow = (schema) => {',
      '  try {',
    ].join('\n'),
  },
  {
    file: /node_modules\/commander\/lib\/command\.js$/,
    from: "import childProcess from 'node:child_process';",
    to: "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };",
  },
  ...['command', 'help'].map((name) => ({
    file: new RegExp(`node_modules/commander/lib/${name}\\.js$`),
    from: "import { stripVTControlCharacters } from 'node:util';",
    to: "const stripVTControlCharacters = (str) => /[\\u001b\\u009b]/.test(str) ? require('node:util').stripVTControlCharacters(str) : str;",
  })),
];

/** Rewrites each file of REWRITES (every rewrite of a file at once); fails the build when a text is not there. */
export const lazyRequires: BunPlugin = {
  name: 'slipway-lazy-requires',
  setup(build) {
    for (const rewrite of REWRITES) build.onLoad({ filter: rewrite.file }, ({ path }) => rewritten(path));
  },
};

function rewritten(path: string): { contents: string; loader: 'js' } {
  let text = readFileSync(path, 'utf8');
  for (const rewrite of REWRITES.filter((r) => r.file.test(path))) {
    if (!text.includes(rewrite.from))
      throw new Error(
        `lazy-requires: ${path} no longer contains ${JSON.stringify(rewrite.from)}; update scripts/lazy-requires.ts`,
      );
    text = text.replace(rewrite.from, rewrite.to);
  }
  return { contents: text, loader: 'js' };
}
