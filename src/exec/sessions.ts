/** Open exec sessions, counted per token, so that one token cannot hold an unbounded number of shells. */
export class ExecSessions {
  readonly #open = new Map<string, number>();

  constructor(private readonly maxPerToken: number) {}

  /** Takes a slot for `tokenId`; returns its release (idempotent), or null when the token is at its cap. */
  acquire(tokenId: string): (() => void) | null {
    const open = this.#open.get(tokenId) ?? 0;
    if (open >= this.maxPerToken) return null;
    this.#open.set(tokenId, open + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#open.get(tokenId) ?? 1) - 1;
      if (left <= 0) this.#open.delete(tokenId);
      else this.#open.set(tokenId, left);
    };
  }

  /** Sessions `tokenId` holds now. */
  openOf(tokenId: string): number {
    return this.#open.get(tokenId) ?? 0;
  }

  /** The cap per token. */
  get max(): number {
    return this.maxPerToken;
  }
}
