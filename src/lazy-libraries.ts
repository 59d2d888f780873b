/**
 * Libraries the agent's start never calls, loaded by their first use instead of when the server's
 * modules are imported. Each stays bundled into the executable; only its evaluation waits. Measured
 * in the compiled binary, evaluating them cost `serve` about 15 ms of CPU and 10 MiB of RSS, tldts
 * (the public suffix list) alone 6 ms and 7 MiB: it is needed when a custom domain is added or a
 * certificate ordered, tar-stream when a build context, backup or volume is packed, yauzl when a zip
 * is uploaded, dockerfile-ast when a Dockerfile is checked. test/cli/startup.test.ts keeps them out
 * of a start.
 */

/** The public suffix list's lookups. */
export const tldts = (): typeof import('tldts') => require('tldts');

/** Tar packing and extraction, streamed. */
export const tarStream = (): typeof import('tar-stream') => require('tar-stream');

/** Zip reading. */
export const yauzl = (): typeof import('yauzl') => require('yauzl');

/** The Dockerfile parser. */
export const dockerfileAst = (): typeof import('dockerfile-ast') => require('dockerfile-ast');
