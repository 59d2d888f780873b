/**
 * better-sqlite3's addon as a file embedded in the executable: its path there (`/$bunfs/…`, with the
 * content's hash in the name). Only the build's rewrite of better-sqlite3's linux-x64 entry
 * (scripts/lazy-requires.ts) imports this; run from source, Bun cannot import a `.node` as a file.
 */
import addon from '../node_modules/better-sqlite3/prebuilds/linux-x64.node' with { type: 'file' };

export default addon;
