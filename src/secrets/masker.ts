/** What replaces a secret value in any log line. */
export const MASK = '••••••';

/** Values shorter than this are too common to mask without mangling ordinary text. */
const MIN_LENGTH = 4;

/**
 * Replaces every occurrence of secret values in log lines. Logs are masked line by line after
 * they are split into lines, so a value that arrived split across two chunks is still caught;
 * a multi-line value (a PEM key) is masked line by line.
 */
export class Masker {
  private readonly terms: string[];

  constructor(values: Iterable<string>) {
    const terms = new Set<string>();
    for (const value of values) {
      for (const line of value.split(/\r?\n/)) if (line.trim().length >= MIN_LENGTH) terms.add(line);
    }
    // Longest first, so a value containing another is masked whole.
    this.terms = [...terms].sort((a, b) => b.length - a.length);
  }

  /** The line with every secret replaced by MASK. */
  mask(line: string): string {
    let out = line;
    for (const term of this.terms) if (out.includes(term)) out = out.split(term).join(MASK);
    return out;
  }

  /** True when there is nothing to mask. */
  get empty(): boolean {
    return this.terms.length === 0;
  }
}
