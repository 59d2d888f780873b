/**
 * Copying a few bytes into a Buffer. Buffer's copy and write are native calls that cost a few
 * hundred nanoseconds each whatever the size, several times what a loop takes for the runs of a
 * head (tens of bytes); past SMALL bytes the native call wins and is used.
 */

/** Runs up to this many bytes are copied by a loop. */
const SMALL = 128;

/** Copies `src[from, to)` into `out` at `at`; returns the number of bytes copied. */
export function copyInto(out: Uint8Array, at: number, src: Uint8Array, from: number, to: number): number {
  const n = to - from;
  if (n <= 0) return 0;
  if (n > SMALL) return (src as Buffer).copy(out, at, from, to);
  for (let i = 0; i < n; i++) out[at + i] = src[from + i]!;
  return n;
}

/** Writes `text` (latin1: one byte per character) into `out` at `at`; returns its length. */
export function writeLatin1(out: Uint8Array, at: number, text: string): number {
  const n = text.length;
  if (n > SMALL) return (out as Buffer).write(text, at, 'latin1');
  for (let i = 0; i < n; i++) out[at + i] = text.charCodeAt(i);
  return n;
}
