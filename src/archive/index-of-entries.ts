import { ArchiveError } from './entry.ts';

type Kind = 'file' | 'directory' | 'symlink';

/**
 * Remembers every path seen so far, keyed case-insensitively after Unicode NFC normalisation,
 * so that duplicates, a file and a directory of one name, look-alike names and entries placed
 * "through" a symlink are all caught, whatever order the archive lists them in. With `foldCase`
 * false, names are compared byte for byte (a volume's files, restored on Linux, may differ only
 * in case); every other check stays.
 */
export class EntryIndex {
  private readonly seen = new Map<string, { path: string; kind: Kind; explicit: boolean }>();
  private readonly keyOf: (path: string) => string;

  constructor(options: { foldCase?: boolean } = {}) {
    this.keyOf = options.foldCase === false ? (path) => path : foldedKey;
  }

  /** Records `path` of `kind`, throwing ArchiveError on any collision. */
  add(path: string, kind: Kind): void {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) this.addParent(parts.slice(0, i).join('/'), path);
    const key = this.keyOf(path);
    const prior = this.seen.get(key);
    if (prior) {
      if (prior.path !== path)
        throw new ArchiveError(`collides with "${prior.path}" (names differ only in case or Unicode form)`, path);
      if (prior.explicit || prior.kind !== 'directory' || kind !== 'directory') {
        throw new ArchiveError(prior.kind === kind ? 'appears twice' : `is both a ${prior.kind} and a ${kind}`, path);
      }
    }
    this.seen.set(key, { path, kind, explicit: true });
  }

  private addParent(parent: string, child: string): void {
    const key = this.keyOf(parent);
    const prior = this.seen.get(key);
    if (!prior) {
      this.seen.set(key, { path: parent, kind: 'directory', explicit: false });
      return;
    }
    if (prior.path !== parent)
      throw new ArchiveError(`collides with "${prior.path}" (names differ only in case or Unicode form)`, child);
    if (prior.kind === 'symlink') throw new ArchiveError(`lies inside "${parent}", which is a symlink`, child);
    if (prior.kind === 'file') throw new ArchiveError(`lies inside "${parent}", which is a file`, child);
  }
}

function foldedKey(path: string): string {
  return path.normalize('NFC').toLowerCase();
}
