/** The upload formats Slipway takes. */
export type ArchiveFormat = 'tar' | 'tar.gz' | 'zip';

/** Recognises a format from the first bytes of an upload (at least 262 for tar). */
export function sniffFormat(head: Uint8Array): ArchiveFormat | null {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'tar.gz';
  if (
    head[0] === 0x50 &&
    head[1] === 0x4b &&
    (head[2] === 0x03 || head[2] === 0x05) &&
    (head[3] === 0x04 || head[3] === 0x06)
  ) {
    return 'zip';
  }
  if (head.length >= 262 && Buffer.from(head.subarray(257, 262)).toString('latin1') === 'ustar') return 'tar';
  return null;
}

/** The format a Content-Type announces; undefined for types that say nothing (octet-stream). */
export function formatOfContentType(contentType: string): ArchiveFormat | null | undefined {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  switch (type) {
    case 'application/gzip':
    case 'application/x-gzip':
    case 'application/x-tgz':
      return 'tar.gz';
    case 'application/x-tar':
      return 'tar';
    case 'application/zip':
    case 'application/x-zip-compressed':
      return 'zip';
    case 'application/octet-stream':
      return undefined;
    default:
      return null;
  }
}
