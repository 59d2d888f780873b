/**
 * Writing to a Bun socket, whose write() takes what the kernel accepts now and returns how much
 * that was. What is left is queued (copied, since the caller may reuse its buffer, unless the
 * caller hands the bytes over) and sent on `drain`; write() says whether everything left at once,
 * so a caller that got false stops reading its source until `onDrained` runs. The queue thus holds
 * at most one read's worth per direction.
 */
import type { Socket } from 'bun';

/** The write side of a visitor's connection: a Bun socket's Outbound, or a node:tls socket's. */
export interface Sink {
  /**
   * Sends `data` (a string as latin1); false when some of it waits, until `onDrained` runs.
   * `owned`: the caller hands the bytes over and never changes them, so what waits need not be
   * copied (a read's own chunk, a buffer made for this write).
   */
  write(data: string | Uint8Array, owned?: boolean): boolean;
  /** Ends the connection once everything written has gone out. */
  end(): void;
  onDrained: (() => void) | undefined;
  /** Whether write() is done with the bytes it was given when it returns (it copies what must wait). */
  readonly copies: boolean;
}

/** What the engine does with a visitor's connection besides writing: a Bun socket, or an adapter. */
export interface Wire {
  readonly remoteAddress: string | undefined;
  pause(): void;
  resume(): void;
  /** Closes the connection at once. */
  terminate(): void;
}

/** The write side of one Bun socket. */
export class Outbound implements Sink {
  readonly copies = true;
  private queue: Uint8Array[] = [];
  private ending = false;
  /** Called once the queue has been emptied after a write that returned false. */
  onDrained: (() => void) | undefined;

  constructor(private readonly socket: Socket<unknown>) {}

  /** Whether bytes are waiting for the socket. */
  get blocked(): boolean {
    return this.queue.length > 0;
  }

  /** Sends `data`; true when it all went out now, false when some waits for `drain` (see Sink). */
  write(data: string | Uint8Array, owned?: boolean): boolean {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    if (bytes.length === 0) return this.queue.length === 0;
    if (this.queue.length > 0) {
      this.queue.push(owned ? bytes : Buffer.from(bytes));
      return false;
    }
    const sent = this.socket.write(bytes);
    if (sent === bytes.length) return true;
    if (sent < 0) return false;
    const rest = bytes.subarray(sent);
    this.queue.push(owned ? rest : Buffer.from(rest));
    return false;
  }

  /**
   * Sends `text`, which holds only ASCII characters, as it is: Bun encodes a string as UTF-8,
   * which for ASCII is the same bytes as latin1, and no Buffer is made unless some must wait.
   */
  writeAscii(text: string): boolean {
    if (this.queue.length > 0) return this.write(text);
    const sent = this.socket.write(text);
    if (sent === text.length) return true;
    if (sent < 0) return false;
    this.queue.push(Buffer.from(text.slice(sent), 'latin1'));
    return false;
  }

  /** Ends the socket once everything queued has gone out. */
  end(): void {
    this.ending = true;
    if (this.queue.length === 0) this.socket.end();
  }

  /** The socket can take more: sends what is queued, and tells the waiting source when it is all out. */
  drain(): void {
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      const sent = this.socket.write(head);
      if (sent < 0) return;
      if (sent < head.length) {
        this.queue[0] = head.subarray(sent);
        return;
      }
      this.queue.shift();
    }
    if (this.ending) {
      this.socket.end();
      return;
    }
    this.onDrained?.();
  }
}
