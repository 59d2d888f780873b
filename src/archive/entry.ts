import type { Readable } from 'node:stream';
import { ValidationError } from '../errors.ts';

/** The kinds of entry an archive reader reports; only the first three are ever kept. */
export type EntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'device' | 'fifo' | 'other';

/** One entry as a reader saw it, before any check. */
export interface RawEntry {
  /** The name's raw bytes when the format gives them, else the decoded name. */
  name: Buffer | string;
  type: EntryType;
  mode: number;
  mtime: Date;
  /** The declared size of a file's content. */
  size: number;
  linkTarget?: string;
  /** Numeric owner, where the format records one (tar). */
  uid?: number;
  gid?: number;
  encrypted?: boolean;
  /** A file's content; must be consumed (or destroyed) before the next entry is asked for. */
  body?: Readable;
}

/** Thrown for any upload that is rejected: 422 naming the entry and the reason. */
export class ArchiveError extends ValidationError {
  constructor(reason: string, entry?: string) {
    super(
      entry === undefined ? `Rejected upload: ${reason}` : `Rejected upload: entry "${printable(entry)}" ${reason}`,
    );
  }
}

/** A name made safe to print in a message: control characters escaped, length capped. */
export function printable(name: string): string {
  const escaped = name.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return escaped.length > 200 ? `${escaped.slice(0, 200)}…` : escaped;
}
