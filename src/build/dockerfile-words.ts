/**
 * Dockerfile words as the engine reads them: quotes and escapes removed, and `$VAR`, `${VAR}`,
 * `${VAR:-default}`, `${VAR-default}`, `${VAR:+alt}`, `${VAR+alt}` replaced, following the
 * engine's shell lexer (moby/buildkit frontend/dockerfile/shell). The other forms (`${VAR:?}`,
 * `${VAR#…}`, `${VAR%…}`, `${VAR/…}`) are refused rather than guessed at.
 */

/** A word this module cannot read the way the engine would; `reason` completes "the word …". */
export class UnreadableWord extends Error {}

/** The word with quotes, escapes and variables processed; unset variables expand to "". */
export function expandWord(word: string, vars: ReadonlyMap<string, string>, escapeChar: string): string {
  return new Lexer(word, vars, escapeChar).word(null);
}

/**
 * The word with every quote and escape character dropped and lower-cased: a superset of what the
 * engine removes, for prefix checks (`slipway/`, `slipway.`, `http://`) that no spelling may dodge.
 * Variables are not expanded: callers refuse words with `$` before asking.
 */
export function bareWord(word: string, escapeChar: string): string {
  return [...word]
    .filter((c) => c !== '"' && c !== "'" && c !== escapeChar && c !== '\\')
    .join('')
    .toLowerCase();
}

class Lexer {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly vars: ReadonlyMap<string, string>,
    private readonly escapeChar: string,
  ) {}

  /** Reads up to `stop` (consumed) or the end; a missing `stop` is an error. */
  word(stop: string | null): string {
    let out = '';
    while (this.pos < this.text.length) {
      const c = this.text[this.pos]!;
      if (stop !== null && c === stop) {
        this.pos++;
        return out;
      }
      if (c === '$') out += this.dollar();
      else if (c === "'") out += this.singleQuoted();
      else if (c === '"') out += this.doubleQuoted();
      else if (c === this.escapeChar) {
        this.pos += 2; // the escape and the character it makes literal (none at the end)
        out += this.text[this.pos - 1] ?? '';
      } else {
        out += c;
        this.pos++;
      }
    }
    if (stop !== null) throw new UnreadableWord(`has no closing "${stop}"`);
    return out;
  }

  private singleQuoted(): string {
    const end = this.text.indexOf("'", this.pos + 1);
    if (end === -1) throw new UnreadableWord('has an unclosed single quote');
    const out = this.text.slice(this.pos + 1, end);
    this.pos = end + 1;
    return out;
  }

  private doubleQuoted(): string {
    let out = '';
    this.pos++;
    for (;;) {
      const c = this.text[this.pos];
      if (c === undefined) throw new UnreadableWord('has an unclosed double quote');
      if (c === '"') {
        this.pos++;
        return out;
      }
      if (c === '$') {
        out += this.dollar();
        continue;
      }
      this.pos++;
      if (c === this.escapeChar) {
        const next = this.text[this.pos];
        if (next === undefined) continue;
        if (next === '"' || next === '$' || next === this.escapeChar) {
          out += next;
          this.pos++;
          continue;
        }
      }
      out += c;
    }
  }

  private dollar(): string {
    this.pos++;
    if (this.text[this.pos] !== '{') {
      const name = this.name();
      return name === '' ? '$' : (this.vars.get(name) ?? '');
    }
    this.pos++;
    const first = this.text[this.pos];
    if (first === undefined || first === '{' || first === '}' || first === ':') {
      throw new UnreadableWord('has a bad ${…} substitution');
    }
    const name = this.name();
    let op = this.text[this.pos++];
    if (op === '}') return this.vars.get(name) ?? '';
    const colon = op === ':';
    if (colon) op = this.text[this.pos++];
    if (op !== '-' && op !== '+') throw new UnreadableWord(`uses a \${${name}${colon ? ':' : ''}${op ?? ''}…} form`);
    const alternative = this.word('}');
    const value = this.vars.get(name);
    const set = value !== undefined && !(colon && value === '');
    if (op === '-') return set ? value : alternative;
    return set ? alternative : '';
  }

  // A name is letters, digits and underscores; one starting with a digit is all digits; a special
  // parameter ($@, $1, …) is one character. None of them are ever set in a Dockerfile.
  private name(): string {
    const rest = this.text.slice(this.pos);
    const m = /^(?:\d+|[@*#?\-$!0]|[\p{L}\p{N}_]+)/u.exec(rest);
    const name = m?.[0] ?? '';
    this.pos += name.length;
    return name;
  }
}
