/**
 * Libraries the agent's start never calls, loaded by their first use instead of when the server's
 * modules are imported. Each stays bundled into the executable; only its evaluation waits. Measured
 * in the compiled binary, evaluating them cost `serve` about 15 ms of CPU and 10 MiB of RSS, tldts
 * (the public suffix list) alone 6 ms and 7 MiB: it is needed when a custom domain is added or a
 * certificate ordered, tar-stream when a build context, backup or volume is packed, yauzl when a zip
 * is uploaded, dockerfile-ast when a Dockerfile is checked. test/cli/startup.test.ts keeps them out
 * of a start. So are node:http and node:https (a webhook's delivery, a domain's self-check, an ACME
 * order), node:tls (an order's trusted roots) and node:zlib (an archive or a build context): an idle
 * agent that imported them held about 1 MiB more.
 *
 * The edge's own: node:http is the `node` engine's (and its upstream Agent's), node:tls the HTTPS
 * listener's and the certificates'; the native engine serving plain HTTP needs neither, and each
 * costs an idle edge megabytes when imported at start. An edge process of its own reads the route
 * store with Bun's SQLite, so better-sqlite3 loads only where a store is opened with it.
 */
import type BetterSqlite from 'better-sqlite3';
import type * as Http from 'node:http';
import type * as Https from 'node:https';
import type * as Net from 'node:net';
import type * as Stream from 'node:stream';
import type * as Tls from 'node:tls';
import type * as Zlib from 'node:zlib';

/** The public suffix list's lookups. */
export const tldts = (): typeof import('tldts') => require('tldts');

/** Tar packing and extraction, streamed. */
export const tarStream = (): typeof import('tar-stream') => require('tar-stream');

/** Zip reading. */
export const yauzl = (): typeof import('yauzl') => require('yauzl');

/** The Dockerfile parser. */
export const dockerfileAst = (): typeof import('dockerfile-ast') => require('dockerfile-ast');

/** node:http. */
export const nodeHttp = (): typeof Http => require('node:http');

/** node:https. */
export const nodeHttps = (): typeof Https => require('node:https');

/** node:zlib (gzip of archives and build contexts). */
export const nodeZlib = (): typeof Zlib => require('node:zlib');

/** node:net (an edge needs it for a WebSocket's upstream connection only). */
export const nodeNet = (): typeof Net => require('node:net');

/** node:stream (an edge needs it to hand a WebSocket's socket to the bridge only). */
export const nodeStream = (): typeof Stream => require('node:stream');

/** node:tls. */
export const nodeTls = (): typeof Tls => require('node:tls');

/** better-sqlite3, through its platform entry (the one the executable embeds). */
export const betterSqlite = (): typeof BetterSqlite => require('better-sqlite3/linux-x64');

/** Bun's built-in SQLite. */
export const bunSqlite = (): typeof import('bun:sqlite') => require('bun:sqlite');
