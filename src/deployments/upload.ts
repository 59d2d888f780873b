import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import { Reclaimer } from '../archive/reclaim.ts';
import { formatOfContentType, sniffFormat, type ArchiveFormat } from '../archive/sniff.ts';
import { BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '../errors.ts';

/** An upload received to a temporary file, hashed and identified. */
export interface ReceivedUpload {
  path: string;
  sha256: string;
  bytes: number;
  format: ArchiveFormat;
}

const ACCEPTED =
  'application/gzip, application/x-tar, application/zip or multipart/form-data with the archive in field "source"';

/**
 * Streams a request body (raw archive or multipart field `source`) to a file in `tmpDir`,
 * hashing it on the way and refusing it with 413 the moment it passes `maxBytes`. Memory use
 * does not depend on the upload's size. The format is sniffed from the first bytes and must
 * agree with what the Content-Type announced.
 */
export async function receiveUpload(request: Request, tmpDir: string, maxBytes: number): Promise<ReceivedUpload> {
  const contentType = request.headers.get('content-type') ?? 'application/octet-stream';
  const declaredLength = Number(request.headers.get('content-length') ?? NaN);
  if (declaredLength > maxBytes) throw tooLarge(maxBytes);
  if (!request.body) throw new BadRequestError(`The request has no body: send ${ACCEPTED}`);

  const multipart = /^multipart\/form-data\b/i.test(contentType);
  let declared = multipart ? undefined : formatOfContentType(contentType);
  if (declared === null)
    throw new UnsupportedMediaTypeError(`Unsupported content type "${contentType}": send ${ACCEPTED}`);

  const path = join(tmpDir, `upload-${crypto.randomUUID()}`);
  const hash = new Bun.CryptoHasher('sha256');
  let bytes = 0;
  const reclaim = new Reclaimer();
  // The first bytes, kept to sniff the format from without reading the file back.
  const head: Buffer[] = [];
  const meter = () =>
    new Transform({
      transform(chunk: Buffer, _enc, cb) {
        if (bytes < SNIFF_BYTES) head.push(chunk.subarray(0, SNIFF_BYTES - bytes));
        bytes += chunk.length;
        if (bytes > maxBytes) return cb(tooLarge(maxBytes));
        reclaim.add(chunk.length);
        hash.update(chunk);
        cb(null, chunk);
      },
    });
  try {
    const body = Readable.fromWeb(request.body as never);
    if (multipart) declared = await receiveMultipart(body, contentType, path, meter);
    else await pipeline(body, meter(), createWriteStream(path, { mode: 0o600 }));
    const format = checkFormat(Buffer.concat(head), declared, contentType);
    return { path, sha256: hash.digest('hex'), bytes, format };
  } catch (err) {
    await rm(path, { force: true });
    throw err;
  }
}

async function receiveMultipart(
  body: Readable,
  contentType: string,
  path: string,
  meter: () => Transform,
): Promise<ArchiveFormat | undefined> {
  let parser: busboy.Busboy;
  try {
    parser = busboy({ headers: { 'content-type': contentType }, limits: { files: 1, fields: 50, parts: 60 } });
  } catch (err) {
    throw new BadRequestError(`Cannot read the multipart body: ${(err as Error).message}`);
  }
  let saved: Promise<void> | null = null;
  let declared: ArchiveFormat | null | undefined;
  parser.on('file', (field, stream, info) => {
    if (field !== 'source' || saved) return void stream.resume();
    declared = formatOfContentType(info.mimeType) ?? formatFromName(info.filename);
    saved = pipeline(stream, meter(), createWriteStream(path, { mode: 0o600 }));
    saved.catch((err) => parser.destroy(err));
  });
  try {
    await pipeline(body, parser);
  } catch (err) {
    if (err instanceof PayloadTooLargeError) throw err;
    throw new BadRequestError(`Cannot read the multipart body: ${(err as Error).message}`);
  }
  if (!saved)
    throw new ValidationError('The multipart body has no file in field "source"', [
      { path: '/source', message: 'Required' },
    ]);
  await saved;
  return declared ?? undefined;
}

function formatFromName(name: string | undefined): ArchiveFormat | undefined {
  if (!name) return undefined;
  if (/\.(tar\.gz|tgz)$/i.test(name)) return 'tar.gz';
  if (/\.tar$/i.test(name)) return 'tar';
  if (/\.zip$/i.test(name)) return 'zip';
  return undefined;
}

/** How many of an upload's first bytes its format is sniffed from. */
const SNIFF_BYTES = 512;

function checkFormat(head: Buffer, declared: ArchiveFormat | undefined, contentType: string): ArchiveFormat {
  const sniffed = sniffFormat(head);
  if (!sniffed) throw new ValidationError('Rejected upload: the body is not a tar, tar.gz or zip archive');
  if (declared && declared !== sniffed) {
    throw new UnsupportedMediaTypeError(`The upload is a ${sniffed} archive but was sent as ${contentType}`);
  }
  return sniffed;
}

function tooLarge(maxBytes: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`The upload is larger than the ${maxBytes}-byte limit (SLIPWAY_MAX_UPLOAD_BYTES)`);
}
