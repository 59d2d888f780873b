/**
 * The text of a Dockerfile between two parser positions, as the engine's parser sees it once it
 * has joined continued lines: each escape character that ends a line (trailing blanks allowed) is
 * dropped together with the line break.
 */

/** A zero-based line and UTF-16 column, as dockerfile-ast reports them. */
export interface Position {
  line: number;
  character: number;
}

/** Reads ranges of one Dockerfile's text. */
export class SourceText {
  private readonly lineStarts: number[] = [0];
  private readonly continuation: RegExp;

  constructor(
    private readonly text: string,
    escapeChar: string,
  ) {
    // Line breaks as the parser counts them: \r\n, \n or a lone \r.
    for (const m of text.matchAll(/\r\n|\n|\r/g)) this.lineStarts.push(m.index + m[0].length);
    this.continuation = new RegExp(
      `${escapeChar.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}[ \\t]*(?:\\r\\n|\\n|\\r)`,
      'g',
    );
  }

  /** The text from `range.start` to `range.end`, continued lines joined. */
  of(range: { start: Position; end: Position }): string {
    return this.text.slice(this.offset(range.start), this.offset(range.end)).replace(this.continuation, '');
  }

  private offset(p: Position): number {
    return (this.lineStarts[p.line] ?? this.text.length) + p.character;
  }
}
