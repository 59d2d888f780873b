/**
 * Unmaps the code pages a process touched to start and no longer uses. Most of an idle agent's
 * resident memory is not its heap but pages of the executable itself (Bun's machine code, its
 * read-only data and the embedded bytecode): the start runs code the idle process never runs again,
 * and the kernel maps each page it faults in together with its cached neighbours (fault-around).
 *
 * `madvise(MADV_DONTNEED)` on a private, read-only file mapping drops this process's page-table
 * entries only: the file's pages stay in the page cache (nothing is read from disk again, other
 * processes keep theirs), and the next access maps the same bytes back. It would discard the
 * process's own copies of pages written since the mapping was made, so a mapping is advised only
 * when it can hold none: not writable, and no anonymous (copied) pages in /proc/self/smaps (the
 * dynamic loader's relocated, then write-protected, pages are such copies).
 */
import { readFileSync } from 'node:fs';

const MADV_DONTNEED = 4;

/** A mapping that may be released: start address and length in bytes. */
export interface ReleasableMapping {
  start: bigint;
  length: bigint;
  path: string;
  /** Resident kilobytes before the release. */
  rssKiB: number;
}

/** The private, read-only file mappings of an smaps listing that hold no anonymous pages. */
export function releasableMappings(smaps: string): ReleasableMapping[] {
  const found: ReleasableMapping[] = [];
  let current: (ReleasableMapping & { anonymousKiB: number }) | null = null;
  const close = () => {
    if (current && current.anonymousKiB === 0 && current.rssKiB > 0) {
      const { anonymousKiB: _, ...mapping } = current;
      found.push(mapping);
    }
    current = null;
  };
  for (const line of smaps.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      close();
      const [, from, to, perms, path] = head as unknown as [string, string, string, string, string];
      // Read-only and private, backed by a file ([vdso], [heap] and anonymous memory are not).
      if (perms[1] === '-' && perms[3] === 'p' && path.startsWith('/')) {
        const start = BigInt(`0x${from}`);
        current = { start, length: BigInt(`0x${to}`) - start, path, rssKiB: 0, anonymousKiB: -1 };
      }
      continue;
    }
    if (!current) continue;
    const field = /^(Rss|Anonymous):\s+(\d+) kB/.exec(line);
    if (field?.[1] === 'Rss') current.rssKiB = Number(field[2]);
    else if (field?.[1] === 'Anonymous') current.anonymousKiB = Number(field[2]);
  }
  close();
  return found;
}

type Madvise = (start: bigint, length: bigint, advice: number) => number;
let madvise: Madvise | null | undefined;

/** libc's madvise through Bun's FFI, or null where it cannot be loaded. */
function loadMadvise(): Madvise | null {
  if (madvise !== undefined) return madvise;
  try {
    const { dlopen } = require('bun:ffi') as typeof import('bun:ffi');
    const libc = dlopen('libc.so.6', { madvise: { args: ['u64', 'u64', 'i32'], returns: 'i32' } });
    madvise = (start, length, advice) => libc.symbols.madvise(start, length, advice) as number;
  } catch {
    madvise = null;
  }
  return madvise;
}

/**
 * Releases this process's releasable mappings (see above); resolves the resident kilobytes they held
 * before, or null where this platform offers no way to (not Linux, no libc to call).
 */
export function releaseExecutablePages(): number | null {
  if (process.platform !== 'linux') return null;
  const advise = loadMadvise();
  if (!advise) return null;
  let released = 0;
  for (const mapping of releasableMappings(readFileSync('/proc/self/smaps', 'utf8'))) {
    if (advise(mapping.start, mapping.length, MADV_DONTNEED) === 0) released += mapping.rssKiB;
  }
  return released;
}
