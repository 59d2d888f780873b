/**
 * The API's front (SLIPWAY_API_ENGINE=native, the default): the API's port is a Bun.listen listener that answers
 * the fast lane's reads straight from the request head's bytes (connection.ts), and hands every
 * other connection over, from its first other request on, to the whole API on Bun.serve, which
 * listens on a loopback port of its own (hop.ts). Bun.serve's Request and Response layer (a
 * Request and its Headers made for every request, a Response built and written) cost an
 * authenticated read more than the lane's own work; the front makes neither for the reads it
 * answers, while everything else is answered by Bun.serve exactly as when it listens itself.
 */
import type { Socket, SocketHandler, TCPSocketListener } from 'bun';
import { SlotList } from '../../edge/slot-list.ts';
import type { RequestHead } from '../../edge/http1/request-head.ts';
import type { LaneAnswer, LaneReads } from '../fast-lane/lane.ts';
import { FrontConnection, type FrontLane, IDLE_SECONDS } from './connection.ts';
import type { Internal } from './hop.ts';
import { headRequest } from './head-request.ts';
import { type TargetMatch, targetMatcher } from './lane-targets.ts';

/** The front of one API listener. */
export class ApiFront implements FrontLane {
  private listener: TCPSocketListener<FrontConnection> | undefined;
  private readonly connections = new SlotList<'frontSlot', FrontConnection>('frontSlot');
  private match: (target: string) => TargetMatch | null;
  /** How many requests the front answered itself (the rest were handed to Bun.serve). */
  answered = 0;

  constructor(
    readonly internal: Internal,
    lane: LaneReads,
  ) {
    this.match = targetMatcher(lane);
  }

  /** Answers the reads of `lane` from now on (the whole app's, once it is built). */
  use(lane: LaneReads): void {
    this.match = targetMatcher(lane);
  }

  /** Binds now (port 0 = random) and returns the port; throws when the address is taken. */
  listen(hostname: string, port: number): number {
    this.listener = Bun.listen<FrontConnection>({
      hostname,
      port,
      allowHalfOpen: true,
      socket: this.handlers(),
    } as Bun.TCPSocketListenOptions<FrontConnection>);
    return this.listener.port;
  }

  /** Stops accepting; idle connections close now, the others once their exchange or hop ends. */
  stop(): void {
    this.listener?.stop(false);
    this.listener = undefined;
    for (const conn of this.connections.snapshot()) if (conn.idle) conn.end();
  }

  answer(head: RequestHead, peer: () => string | undefined): LaneAnswer | Promise<LaneAnswer> | undefined {
    // A body, an upgrade, an interim 100 or the end of the connection: Bun.serve's to handle.
    if (head.method !== 'GET' || head.minor !== 1 || head.framing.kind !== 'none') return undefined;
    if (head.close || head.websocket || head.expectContinue) return undefined;
    const match = this.match(head.url);
    if (match === null) return undefined;
    const request = headRequest(head);
    if (request === null) return undefined;
    const answer = match.read(request, match.params, peer);
    if (answer !== undefined) this.answered++;
    return answer;
  }

  private handlers(): SocketHandler<FrontConnection> {
    return {
      open: (socket: Socket<FrontConnection>) => {
        const conn = new FrontConnection(socket, this);
        socket.data = conn;
        socket.timeout(IDLE_SECONDS);
        this.connections.add(conn);
      },
      data: (socket, chunk) => socket.data.received(chunk),
      drain: (socket) => socket.data.out.drain(),
      end: (socket) => socket.data.peerEnded(),
      timeout: (socket) => socket.data.terminate(),
      close: (socket) => {
        this.connections.remove(socket.data);
        socket.data.closed();
      },
      error: () => {},
    };
  }
}
