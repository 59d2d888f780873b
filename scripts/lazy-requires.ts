/**
 * A build plugin that defers two of dockerode's dependencies to their first use. dockerode loads
 * BuildKit's session support (`@grpc/grpc-js`, `@grpc/proto-loader`) and docker-modem loads
 * `ssh2` when they are imported, but Slipway builds with the classic builder (`version: '1'`,
 * src/build/builder.ts) and talks to the engine over a Unix socket or TCP, so neither is ever
 * called. Evaluating them cost about 60 ms of `serve`'s start and 20–30 MiB of RSS.
 *
 * Each rewrite turns a top-level `require` into a function that requires on call: the module is
 * still bundled (so a future use still works), it is just evaluated on demand. The text rewritten
 * is checked: when an upgrade changes it, the build fails instead of silently loading eagerly.
 */
import { readFileSync } from 'node:fs';
import type { BunPlugin } from 'bun';

interface Rewrite {
  /** The file, as the end of its path. */
  file: RegExp;
  /** The exact text of the eager require, and its lazy replacement. */
  from: string;
  to: string;
}

export const REWRITES: Rewrite[] = [
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
];

/** Rewrites each file of REWRITES; fails the build when its text is not there. */
export const lazyRequires: BunPlugin = {
  name: 'slipway-lazy-requires',
  setup(build) {
    for (const rewrite of REWRITES) {
      build.onLoad({ filter: rewrite.file }, ({ path }) => {
        const text = readFileSync(path, 'utf8');
        if (!text.includes(rewrite.from))
          throw new Error(
            `lazy-requires: ${path} no longer contains ${JSON.stringify(rewrite.from)}; update scripts/lazy-requires.ts`,
          );
        return { contents: text.replace(rewrite.from, rewrite.to), loader: 'js' };
      });
    }
  },
};
