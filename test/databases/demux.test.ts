import { describe, expect, test } from 'bun:test';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ExecOutput } from '../../src/databases/demux.ts';
import { collect } from './harness.ts';

/** One frame of Docker's multiplexed stream: stream id, three zero bytes, a big-endian length, the payload. */
function frame(stream: 1 | 2, payload: string): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(Buffer.byteLength(payload), 4);
  return Buffer.concat([header, Buffer.from(payload)]);
}

describe('ExecOutput', () => {
  test('passes stdout on and keeps stderr, whatever the chunk boundaries', async () => {
    const raw = Buffer.concat([
      frame(1, 'hello '),
      frame(2, 'warn: x\n'),
      frame(1, ''),
      frame(1, 'world'),
      frame(2, 'warn: y'),
    ]);
    for (const size of [1, 3, 7, 8, 9, raw.length]) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < raw.length; at += size) chunks.push(raw.subarray(at, at + size));
      const output = new ExecOutput();
      const out = collect(output);
      await pipeline(Readable.from(chunks), output);
      expect((await out).toString()).toBe('hello world');
      expect(output.stderr()).toBe('warn: x\nwarn: y');
    }
  });

  test('keeps only the tail of a long stderr', async () => {
    const output = new ExecOutput(async () => null, 10);
    const out = collect(output);
    await pipeline(Readable.from([frame(2, 'a'.repeat(100)), frame(2, 'the end')]), output);
    await out;
    expect(output.stderr()).toBe('aaathe end');
  });

  test('fails instead of ending when settle reports an error, and `started` says so', async () => {
    const output = new ExecOutput(async () => new Error('pg_dump exited with code 1'));
    const out = collect(output).catch((error: unknown) => error);
    Readable.from([frame(2, 'boom')]).pipe(output);
    await expect(output.started).rejects.toThrow('pg_dump exited with code 1');
    expect(await out).toMatchObject({ message: 'pg_dump exited with code 1' });
    expect(output.stderr()).toBe('boom');
  });

  test('`started` resolves at the first stdout byte', async () => {
    const output = new ExecOutput(() => new Promise(() => {}));
    output.write(frame(1, 'x'));
    await output.started;
    expect(output.read()?.toString()).toBe('x');
  });
});
