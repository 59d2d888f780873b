/**
 * The backup file's encryption: a plaintext header, then the payload in sealed chunks
 * (AES-256-GCM, 64 KiB each), in the manner of age's STREAM construction. Each chunk's nonce holds
 * its index and whether it is the last one, and every chunk authenticates the header, so a
 * changed byte, a reordered, dropped or appended chunk, and a truncated file are all refused.
 *
 * File: "SLWBKP01" | uint32 header length | header JSON | chunks, each uint32 length | sealed bytes.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, scryptSync } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

const MAGIC = Buffer.from('SLWBKP01');
const CHUNK_BYTES = 64 * 1024;
const TAG_BYTES = 16;
const MAX_HEADER_BYTES = 4096;

/** How a backup's key was made, and what is needed to make it again. */
export interface BackupHeader {
  format: 1;
  kdf: 'master-key' | 'passphrase';
  salt: string;
  nonce_prefix: string;
  chunk_bytes: number;
  id: string;
  created_at: string;
}

/** The secret a backup key comes from: the agent's master key, or the backup passphrase setting. */
export type KeySource = { kind: 'master-key'; key: Buffer } | { kind: 'passphrase'; passphrase: string };

/** A backup that cannot be read: damaged, truncated, not a backup, or sealed with another key. */
export class BackupDamagedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupDamagedError';
  }
}

/** The 32-byte key of one backup: HKDF-SHA256 of the master key, or scrypt of the passphrase, with its salt. */
export function backupKey(source: KeySource, header: Pick<BackupHeader, 'kdf' | 'salt'>): Buffer {
  const salt = Buffer.from(header.salt, 'base64');
  if (header.kdf !== source.kind) {
    throw new BackupDamagedError(
      header.kdf === 'passphrase'
        ? 'The backup is sealed with a passphrase: set SLIPWAY_BACKUP_PASSPHRASE'
        : 'The backup is sealed with the master key, not a passphrase: unset SLIPWAY_BACKUP_PASSPHRASE and give the master key',
    );
  }
  if (source.kind === 'master-key') return Buffer.from(hkdfSync('sha256', source.key, salt, 'slipway backup v1', 32));
  return scryptSync(source.passphrase, salt, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
}

function nonce(prefix: Buffer, index: number, last: boolean): Buffer {
  const n = Buffer.alloc(12);
  prefix.copy(n, 0, 0, 7);
  n.writeUInt32BE(index, 7);
  n[11] = last ? 1 : 0;
  return n;
}

function encodeHeader(header: BackupHeader): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(json.length);
  return Buffer.concat([MAGIC, length, json]);
}

/** A new header for a backup sealed with `source`. */
export function newHeader(source: KeySource, id: string, createdAt: string): BackupHeader {
  return {
    format: 1,
    kdf: source.kind,
    salt: randomBytes(32).toString('base64'),
    nonce_prefix: randomBytes(7).toString('base64'),
    chunk_bytes: CHUNK_BYTES,
    id,
    created_at: createdAt,
  };
}

/** Encrypts a byte stream into the backup format. */
export class EncryptStream extends Transform {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private index = 0;
  private readonly key: Buffer;
  private readonly prefix: Buffer;
  private readonly aad: Buffer;

  constructor(source: KeySource, header: BackupHeader) {
    super();
    this.key = backupKey(source, header);
    this.prefix = Buffer.from(header.nonce_prefix, 'base64');
    this.aad = encodeHeader(header);
    this.push(this.aad);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    while (this.pendingBytes > CHUNK_BYTES) {
      const all = Buffer.concat(this.pending);
      this.seal(all.subarray(0, CHUNK_BYTES), false);
      this.pending = [all.subarray(CHUNK_BYTES)];
      this.pendingBytes = all.length - CHUNK_BYTES;
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    this.seal(Buffer.concat(this.pending), true);
    done();
  }

  private seal(plain: Buffer, last: boolean): void {
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce(this.prefix, this.index++, last));
    cipher.setAAD(this.aad);
    const sealed = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(sealed.length);
    this.push(Buffer.concat([length, sealed]));
  }
}

/** Decrypts the backup format; fails with BackupDamagedError on any change, truncation or a wrong key. */
export class DecryptStream extends Transform {
  private buffer: Buffer = Buffer.alloc(0);
  private header: BackupHeader | null = null;
  private aad: Buffer = Buffer.alloc(0);
  private key: Buffer = Buffer.alloc(0);
  private prefix: Buffer = Buffer.alloc(0);
  private index = 0;
  private ended = false;

  constructor(
    private readonly source: KeySource,
    private readonly onHeader: (header: BackupHeader) => void = () => {},
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    try {
      this.drain();
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    if (!this.header) done(new BackupDamagedError('The file is not a Slipway backup, or it is truncated'));
    else if (!this.ended || this.buffer.length > 0)
      done(new BackupDamagedError('The backup is truncated: its last chunk is missing'));
    else done();
  }

  private drain(): void {
    if (!this.header && !this.readHeader()) return;
    while (this.buffer.length >= 4) {
      const length = this.buffer.readUInt32BE(0);
      if (length < TAG_BYTES || length > CHUNK_BYTES + TAG_BYTES)
        throw new BackupDamagedError('The backup is damaged: a chunk has an impossible length');
      if (this.buffer.length < 4 + length) return;
      if (this.ended) throw new BackupDamagedError('The backup is damaged: data follows its last chunk');
      const sealed = this.buffer.subarray(4, 4 + length);
      this.buffer = this.buffer.subarray(4 + length);
      this.push(this.open(sealed));
    }
  }

  private readHeader(): boolean {
    if (this.buffer.length < MAGIC.length + 4) return false;
    if (!this.buffer.subarray(0, MAGIC.length).equals(MAGIC))
      throw new BackupDamagedError('The file is not a Slipway backup');
    const length = this.buffer.readUInt32BE(MAGIC.length);
    if (length > MAX_HEADER_BYTES) throw new BackupDamagedError('The backup is damaged: its header is too long');
    if (this.buffer.length < MAGIC.length + 4 + length) return false;
    this.aad = Buffer.from(this.buffer.subarray(0, MAGIC.length + 4 + length));
    let header: BackupHeader;
    try {
      header = JSON.parse(this.aad.subarray(MAGIC.length + 4).toString('utf8')) as BackupHeader;
    } catch {
      throw new BackupDamagedError('The backup is damaged: its header is not readable');
    }
    if (header.format !== 1)
      throw new BackupDamagedError(`The backup has format ${header.format}; this Slipway reads 1`);
    this.key = backupKey(this.source, header);
    this.prefix = Buffer.from(header.nonce_prefix, 'base64');
    this.header = header;
    this.onHeader(header);
    this.buffer = this.buffer.subarray(this.aad.length);
    return true;
  }

  private open(sealed: Buffer): Buffer {
    // Which chunk is the last is part of the nonce: try "not last" first, as all but one are.
    for (const last of [false, true]) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', this.key, nonce(this.prefix, this.index, last));
        decipher.setAAD(this.aad);
        decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
        const plain = Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]);
        this.index++;
        this.ended = last;
        return plain;
      } catch {}
    }
    throw new BackupDamagedError(
      this.index === 0
        ? 'The backup cannot be decrypted: it was sealed with another key, or it is damaged'
        : 'The backup is damaged: a chunk does not match its checksum',
    );
  }
}
