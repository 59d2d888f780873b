/**
 * The exec bridge's own logic, with a recording stand-in for the Docker side (its behaviour against
 * the real engine is in exec.test.ts): control messages, ordering, the idle timeout, the session
 * slot and a client that floods stdin.
 */
import { describe, expect, test } from 'bun:test';
import { ExecBridge } from '../../src/exec/bridge.ts';
import type { RunningExec } from '../../src/exec/docker-exec.ts';
import { parseControl } from '../../src/exec/protocol.ts';
import { ExecSessions } from '../../src/exec/sessions.ts';

function fakeSocket() {
  const sent: (string | Uint8Array)[] = [];
  const closes: [number | undefined, string | undefined][] = [];
  return {
    sent,
    closes,
    texts: () => sent.filter((m): m is string => typeof m === 'string').map((m) => JSON.parse(m)),
    send: (d: string | Uint8Array) => sent.push(d),
    close: (code?: number, reason?: string) => void closes.push([code, reason]),
  };
}

function fakeExec(pending = 0) {
  const calls: string[] = [];
  let exit!: (code: number) => void;
  const exec: RunningExec = {
    write: (b) => {
      calls.push(`write ${new TextDecoder().decode(b)}`);
      return pending === 0;
    },
    endInput: () => void calls.push('eof'),
    pendingInput: () => pending,
    resize: async (c, r) => void calls.push(`resize ${c}x${r}`),
    exited: new Promise<number>((resolve) => (exit = resolve)),
    close: () => void calls.push('close'),
  };
  return { exec, calls, exit: (code: number) => exit(code) };
}

const STARTED = { type: 'started', instance: '1-abc', tty: true } as const;

describe('the exec bridge', () => {
  test('applies frames that arrived before the command started, in order', async () => {
    const socket = fakeSocket();
    const bridge = new ExecBridge(socket, 60_000, () => {});
    bridge.message(new TextEncoder().encode('ls\n'));
    bridge.message('{"type":"resize","cols":100,"rows":30}');
    bridge.message('{"type":"stdin_eof"}');
    const { exec, calls, exit } = fakeExec();
    bridge.attach(exec, STARTED);
    expect(calls).toEqual(['write ls\n', 'resize 100x30', 'eof']);
    exit(3);
    await Bun.sleep(0);
    expect(socket.texts()).toEqual([STARTED, { type: 'exit', code: 3 }]);
    expect(socket.closes).toEqual([[1000, 'exited']]);
  });

  test('frames output with its stream byte', () => {
    const socket = fakeSocket();
    const bridge = new ExecBridge(socket, 60_000, () => {});
    bridge.output(2, new Uint8Array([104, 105]));
    expect(socket.sent).toEqual([new Uint8Array([2, 104, 105])]);
    bridge.closed();
  });

  test('closes with 4408 after the idle timeout, hangs the command up and frees the slot once', async () => {
    const socket = fakeSocket();
    let freed = 0;
    const bridge = new ExecBridge(socket, 50, () => freed++);
    const { exec, calls } = fakeExec();
    bridge.attach(exec, STARTED);
    await Bun.sleep(120);
    expect(socket.closes).toEqual([[4408, 'idle_timeout']]);
    expect(socket.texts().at(-1)).toMatchObject({ type: 'error', code: 'idle_timeout' });
    expect(calls).toEqual(['close']);
    bridge.closed();
    expect(freed).toBe(1);
  });

  test('cuts off a client that sends more stdin than the command reads', () => {
    const socket = fakeSocket();
    const bridge = new ExecBridge(socket, 60_000, () => {});
    const { exec } = fakeExec(9 * 1024 * 1024);
    bridge.attach(exec, STARTED);
    bridge.message(new Uint8Array(10));
    expect(socket.closes).toEqual([[4400, 'bad_message']]);
  });

  test('a command that starts after the client left is hung up at once', () => {
    const bridge = new ExecBridge(fakeSocket(), 60_000, () => {});
    bridge.closed();
    const { exec, calls } = fakeExec();
    bridge.attach(exec, STARTED);
    expect(calls).toEqual(['close']);
  });
});

describe('control messages', () => {
  test.each([
    ['not json', 'Control messages are JSON objects'],
    ['{"type":"kill"}', 'Unknown control message: expected type "resize" or "stdin_eof"'],
    ['{"type":"resize","cols":0,"rows":10}', 'A resize needs whole-number cols and rows from 1 to 1000'],
    ['{"type":"resize","cols":80.5,"rows":10}', 'A resize needs whole-number cols and rows from 1 to 1000'],
    ['{"type":"resize","cols":80,"rows":100000}', 'A resize needs whole-number cols and rows from 1 to 1000'],
    ['null', 'Unknown control message: expected type "resize" or "stdin_eof"'],
  ])('refuses %s', (text, reason) => {
    expect(parseControl(text)).toBe(reason);
  });

  test('reads a resize and stdin_eof', () => {
    expect(parseControl('{"type":"resize","cols":80,"rows":24}')).toEqual({ type: 'resize', cols: 80, rows: 24 });
    expect(parseControl('{"type":"stdin_eof"}')).toEqual({ type: 'stdin_eof' });
  });
});

describe('exec sessions per token', () => {
  test('caps each token separately and frees a slot once, however often it is released', () => {
    const sessions = new ExecSessions(2);
    const a1 = sessions.acquire('a')!;
    const a2 = sessions.acquire('a')!;
    expect(sessions.acquire('a')).toBeNull();
    expect(sessions.acquire('b')).not.toBeNull();
    a1();
    a1();
    expect(sessions.openOf('a')).toBe(1);
    expect(sessions.acquire('a')).not.toBeNull();
    a2();
    expect(sessions.openOf('a')).toBe(1);
  });
});
