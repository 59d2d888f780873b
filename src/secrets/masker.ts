import { encodedForms, urlPasswords } from './encodings.ts';

/** What replaces a secret value in any log line. */
export const MASK = '••••••';

/** Values shorter than this are too common to mask without mangling ordinary text. */
const MIN_LENGTH = 4;

/**
 * Replaces every occurrence of secret values in log lines: the values themselves, their common
 * encodings (base64, url-safe base64, URL-encoded, JSON-escaped; see encodings.ts), and the
 * password of any URL among them (a DATABASE_URL's password printed alone). Logs are masked line by
 * line after they are split into lines, so a value that arrived split across two chunks is still
 * caught; a multi-line value (a PEM key) is masked line by line, and its encodings, which are
 * single lines, whole.
 */
export class Masker {
  /** Terms by their first MIN_LENGTH characters, longest first: a line is scanned once, whatever their number. */
  private readonly byPrefix = new Map<string, string[]>();
  /** First characters of the terms, to skip most positions without building a key. */
  private readonly firstChars = new Set<number>();

  constructor(values: Iterable<string>) {
    const terms = new Set<string>();
    const add = (term: string) => {
      if (term.trim().length >= MIN_LENGTH) terms.add(term);
    };
    for (const value of values) {
      for (const secret of [value, ...urlPasswords(value)]) {
        for (const line of secret.split(/\r?\n/)) add(line);
        for (const form of encodedForms(secret)) add(form);
      }
    }
    for (const term of terms) {
      const key = term.slice(0, MIN_LENGTH);
      this.firstChars.add(term.charCodeAt(0));
      const bucket = this.byPrefix.get(key);
      if (bucket) bucket.push(term);
      else this.byPrefix.set(key, [term]);
    }
    for (const bucket of this.byPrefix.values()) bucket.sort((a, b) => b.length - a.length);
  }

  /**
   * The line with every secret replaced by MASK. Every character covered by any occurrence of any
   * term is hidden, so overlapping secrets cannot uncover each other; runs merge into one MASK.
   */
  mask(line: string): string {
    if (this.byPrefix.size === 0) return line;
    // Spans come in order of their start; at each position the longest term is the one that counts.
    const spans: [number, number][] = [];
    for (let at = 0; at + MIN_LENGTH <= line.length; at++) {
      if (!this.firstChars.has(line.charCodeAt(at))) continue;
      const bucket = this.byPrefix.get(line.slice(at, at + MIN_LENGTH));
      const term = bucket?.find((t) => line.startsWith(t, at));
      if (term) spans.push([at, at + term.length]);
    }
    if (spans.length === 0) return line;
    const merged: [number, number][] = [];
    for (const [start, end] of spans) {
      const last = merged.at(-1);
      if (last && start <= last[1]) last[1] = Math.max(last[1], end);
      else merged.push([start, end]);
    }
    let out = '';
    let shown = 0;
    for (const [start, end] of merged) {
      out += `${line.slice(shown, start)}${MASK}`;
      shown = end;
    }
    return out + line.slice(shown);
  }

  /** True when there is nothing to mask. */
  get empty(): boolean {
    return this.byPrefix.size === 0;
  }
}
