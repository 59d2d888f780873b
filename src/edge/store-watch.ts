/**
 * Tells the edge when the route store may have changed, so that it reads the store when the API
 * writes it instead of every 100 ms: an idle edge then wakes up every few seconds only, and its
 * polling code never runs often enough for JavaScriptCore to optimise it (which cost an idle edge
 * some 3 MiB of resident code and compiler memory).
 *
 * It watches the store's directory (inotify through fs.watch): every commit creates, writes and
 * deletes the journal beside the file, and a replaced file is a rename in it. While that directory
 * does not exist yet (an edge started before the API ever ran), it watches the data directory for
 * its creation. A watch can be missed or lost (the directory replaced, inotify's limits reached,
 * no permission to read the directory), so the caller keeps a slow poll and calls arm() at each
 * one, which moves the watch where it belongs.
 */
import { type FSWatcher, statSync, watch } from 'node:fs';
import { dirname } from 'node:path';

export class StoreWatch {
  private watcher: FSWatcher | null = null;
  /** What is being watched: the directory's path and its device and inode. */
  private watching = '';

  /** `onChange` runs on every change seen in the store's directory (several per commit). */
  constructor(
    private readonly storeFile: string,
    private readonly onChange: () => void,
  ) {}

  /**
   * Watches the store's directory, or the one above it while the store's does not exist; does
   * nothing when that watch is already in place. False when neither can be watched: the caller
   * must then poll as often as it wants changes seen.
   */
  arm(): boolean {
    const target = this.target();
    if (target !== null && target === this.watching && this.watcher) return true;
    this.close();
    if (target === null) return false;
    try {
      // Not persistent: the edge's listeners are what keep its process running.
      this.watcher = watch(target.slice(target.indexOf(' ') + 1), { persistent: false }, () => this.onChange());
    } catch {
      return false; // EACCES, ENOSPC (inotify's watch limit), or removed a moment ago
    }
    this.watcher.on('error', () => this.close());
    this.watching = target;
    return true;
  }

  /** Stops watching. */
  close(): void {
    this.watcher?.close();
    this.watcher = null;
    this.watching = '';
  }

  /** "<dev>:<ino> <path>" of the directory to watch, or null when neither exists. */
  private target(): string | null {
    const dir = dirname(this.storeFile);
    for (const path of [dir, dirname(dir)]) {
      const id = directoryIdentity(path);
      if (id !== null) return `${id} ${path}`;
    }
    return null;
  }
}

/**
 * The device and inode of directory `path`, or null when it is missing or not a directory. A
 * missing one is not an exception: an edge started before the API looks every few seconds.
 */
function directoryIdentity(path: string): string | null {
  try {
    const s = statSync(path, { throwIfNoEntry: false });
    return s?.isDirectory() ? `${s.dev}:${s.ino}` : null;
  } catch {
    return null; // a component of the path is not a directory, or cannot be searched
  }
}
