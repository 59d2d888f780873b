/**
 * An S3-compatible server for tests (@20minutes/s3rver, with its bucket on disk), run by Node in its
 * own process on a random loopback port: under Bun, one of its logging dependencies resolves to an
 * incompatible copy. Signatures are checked, so a wrong secret is refused as by a real service.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const PACKAGE = resolve(import.meta.dir, '../../node_modules/@20minutes/s3rver');

const SCRIPT = `
const S3rver = require(process.argv[1]);
const server = new S3rver({ port: 0, address: '127.0.0.1', directory: process.argv[2], silent: true,
  configureBuckets: [{ name: process.argv[3] }] });
server.run().then((a) => console.log('listening ' + a.port));
process.on('SIGTERM', () => server.close().then(() => process.exit(0)));
`;

/** A running S3 server and the settings that point Slipway at it. */
export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** SLIPWAY_BACKUP_S3_* for an agent or a CLI run. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** Starts a server with one bucket; credentials are s3rver's fixed S3RVER/S3RVER. */
export async function startS3(bucket = 'backups'): Promise<TestS3> {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-s3-'));
  const proc = Bun.spawn(['node', '-e', SCRIPT, PACKAGE, dir, bucket], { stdout: 'pipe', stderr: 'pipe' });
  let errors = '';
  void (async () => {
    for await (const chunk of (proc.stderr as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()))
      errors += chunk;
  })();
  const reader = (proc.stdout as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
  let out = '';
  const deadline = Date.now() + 15_000;
  while (!/listening (\d+)/.test(out)) {
    const next = await Promise.race([reader.read(), Bun.sleep(Math.max(0, deadline - Date.now())).then(() => null)]);
    if (!next || next.done) {
      proc.kill();
      throw new Error(`the S3 server did not start (is @20minutes/s3rver installed? npm ci): ${out}${errors}`);
    }
    out += next.value;
  }
  reader.releaseLock();
  const endpoint = `http://127.0.0.1:${/listening (\d+)/.exec(out)![1]}`;
  return {
    endpoint,
    bucket,
    env: {
      SLIPWAY_BACKUP_S3_URL: `s3://${bucket}/slipway`,
      SLIPWAY_BACKUP_S3_ENDPOINT: endpoint,
      SLIPWAY_BACKUP_S3_ACCESS_KEY_ID: 'S3RVER',
      SLIPWAY_BACKUP_S3_SECRET_ACCESS_KEY: 'S3RVER',
    },
    async stop() {
      proc.kill('SIGTERM');
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
