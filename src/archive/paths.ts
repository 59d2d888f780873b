import { posix } from 'node:path';
import { ArchiveError } from './entry.ts';
import type { ArchiveLimits } from './limits.ts';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes and checks an entry name, returning its clean relative form (`src/app.js`, no
 * leading `./`, no trailing `/`), or null for the archive root itself. Throws ArchiveError
 * for absolute paths, drive letters, backslashes, `..`, empty or control-character names,
 * invalid UTF-8 and paths past the length or depth limits.
 */
export function checkEntryPath(raw: Buffer | string, limits: ArchiveLimits): string | null {
  let name: string;
  if (typeof raw === 'string') {
    name = raw;
    if (name.includes('\ufffd')) throw new ArchiveError('has a name that is not valid UTF-8', name);
  } else {
    try {
      name = UTF8.decode(raw);
    } catch {
      throw new ArchiveError('has a name that is not valid UTF-8', raw.toString('latin1'));
    }
  }
  if (name === '') throw new ArchiveError('has an empty name', name);
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new ArchiveError('has a control character in its name', name);
  if (name.includes('\\')) throw new ArchiveError('has a backslash in its name', name);
  if (name.startsWith('/')) throw new ArchiveError('has an absolute path', name);
  if (/^[A-Za-z]:/.test(name)) throw new ArchiveError('has a drive letter', name);

  const parts = name.split('/');
  if (parts.includes('..')) throw new ArchiveError('has ".." in its path', name);
  // "./a", "a/", "a/./b" are ordinary spellings of "a" and "a/b"; an empty middle segment is not.
  const kept = parts.filter((p, i) => !(p === '.' || (p === '' && i === parts.length - 1)));
  if (kept.length === 0) return null;
  if (kept.includes('')) throw new ArchiveError('has an empty path segment', name);
  const clean = kept.join('/');
  if (Buffer.byteLength(clean) > limits.maxPathBytes) {
    throw new ArchiveError(`has a path longer than ${limits.maxPathBytes} bytes`, name);
  }
  if (kept.length > limits.maxDepth) throw new ArchiveError(`is nested deeper than ${limits.maxDepth} levels`, name);
  if (kept.some((p) => Buffer.byteLength(p) > 255))
    throw new ArchiveError('has a path segment longer than 255 bytes', name);
  return clean;
}

/** Throws unless a symlink at `path` pointing to `target` stays inside the archive root. */
export function checkSymlinkTarget(path: string, target: string): void {
  if (target === '') throw new ArchiveError('is a symlink with an empty target', path);
  if (target.startsWith('/') || /^[A-Za-z]:/.test(target) || target.includes('\\')) {
    throw new ArchiveError(`is a symlink to an absolute path "${target}"`, path);
  }
  if (/[\u0000-\u001f\u007f]/.test(target))
    throw new ArchiveError('is a symlink whose target has a control character', path);
  const resolved = posix.normalize(posix.join(posix.dirname(path), target));
  if (resolved === '..' || resolved.startsWith('../')) {
    throw new ArchiveError(`is a symlink to "${target}", outside the archive`, path);
  }
}
