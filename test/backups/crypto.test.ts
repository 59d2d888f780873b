import { describe, expect, test } from 'bun:test';
import { Readable } from 'node:stream';
import {
  BackupDamagedError,
  DecryptStream,
  EncryptStream,
  type KeySource,
  newHeader,
} from '../../src/backups/crypto.ts';

const MASTER: KeySource = { kind: 'master-key', key: Buffer.alloc(32, 1) };

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const seal = (plain: Buffer, key: KeySource = MASTER) =>
  collect(Readable.from([plain]).pipe(new EncryptStream(key, newHeader(key, 'bak_test', '2026-01-01T00:00:00.000Z'))));
const open = (sealed: Buffer, key: KeySource = MASTER) => collect(Readable.from([sealed]).pipe(new DecryptStream(key)));

async function refusal(sealed: Buffer, key: KeySource = MASTER): Promise<string> {
  const err = await open(sealed, key).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BackupDamagedError);
  return (err as Error).message;
}

describe('the backup file encryption', () => {
  const plain = Buffer.from(Array.from({ length: 200_000 }, (_, i) => i % 251));

  test('round-trips data of several chunks, and an empty payload', async () => {
    expect((await open(await seal(plain))).equals(plain)).toBe(true);
    expect((await open(await seal(Buffer.alloc(0)))).length).toBe(0);
  });

  test('round-trips with a passphrase, which the master key does not open', async () => {
    const pass: KeySource = { kind: 'passphrase', passphrase: 'correct horse battery staple' };
    const sealed = await seal(plain, pass);
    expect((await open(sealed, pass)).equals(plain)).toBe(true);
    expect(await refusal(sealed)).toBe('The backup is sealed with a passphrase: set SLIPWAY_BACKUP_PASSPHRASE');
  });

  test('refuses a changed byte, a truncation, a dropped chunk, appended data and another key', async () => {
    const sealed = await seal(plain);
    const flipped = Buffer.from(sealed);
    flipped[flipped.length - 100]! ^= 1;
    expect(await refusal(flipped)).toBe('The backup is damaged: a chunk does not match its checksum');
    expect(await refusal(sealed.subarray(0, sealed.length - 10))).toBe(
      'The backup is truncated: its last chunk is missing',
    );
    // Cut exactly at a chunk boundary: every chunk read is intact, but the last one never came.
    const headerEnd = 12 + sealed.readUInt32BE(8);
    const firstChunkEnd = headerEnd + 4 + sealed.readUInt32BE(headerEnd);
    expect(await refusal(sealed.subarray(0, firstChunkEnd))).toBe('The backup is truncated: its last chunk is missing');
    // Drop the first chunk: the second one fails as chunk 0.
    const dropped = Buffer.concat([sealed.subarray(0, headerEnd), sealed.subarray(firstChunkEnd)]);
    expect(await refusal(dropped)).toBe(
      'The backup cannot be decrypted: it was sealed with another key, or it is damaged',
    );
    expect(await refusal(Buffer.concat([sealed, sealed.subarray(headerEnd, firstChunkEnd)]))).toBe(
      'The backup is damaged: data follows its last chunk',
    );
    expect(await refusal(sealed, { kind: 'master-key', key: Buffer.alloc(32, 2) })).toBe(
      'The backup cannot be decrypted: it was sealed with another key, or it is damaged',
    );
    expect(await refusal(Buffer.from('PK\u0003\u0004 not a backup at all'))).toBe('The file is not a Slipway backup');
  });

  test('a changed header (its salt) fails every chunk', async () => {
    const sealed = await seal(plain);
    const text = sealed.toString('latin1');
    const salt = /"salt":"([^"]+)"/.exec(text)![1]!;
    // Change its first character to another one (a salt that already starts with 'A' gets 'B').
    const changed = `${salt.startsWith('A') ? 'B' : 'A'}${salt.slice(1)}`;
    const other = Buffer.from(text.replace(salt, changed), 'latin1');
    expect(other.equals(sealed)).toBe(false);
    expect(await refusal(other)).toBe(
      'The backup cannot be decrypted: it was sealed with another key, or it is damaged',
    );
  });
});
