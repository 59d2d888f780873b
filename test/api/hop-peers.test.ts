import { describe, expect, test } from 'bun:test';
import type { Server } from 'bun';
import { peerAddress, registerHop } from '../../src/api/hop-peers.ts';

/** A stand-in for the internal Bun.serve: every request comes from the front's loopback `port`. */
function internalServer(port: number) {
  return { requestIP: () => ({ address: '127.0.0.1', port, family: 'IPv4' }) } as unknown as Server<unknown>;
}
const request = new Request('http://127.0.0.1/');

describe("the client behind one of the front's connections", () => {
  test('is the visitor while the connection is open, and the loopback peer on other connections', () => {
    const server = internalServer(40001);
    registerHop(server, '127.0.0.1:40001', '169.254.1.1');
    expect(peerAddress(server, request)).toBe('169.254.1.1');
    const other = internalServer(40002);
    registerHop(other, '127.0.0.1:40001', '169.254.1.2');
    expect(peerAddress(other, request)).toBe('127.0.0.1');
  });

  test('is still the visitor after the connection closed, for a request read late', () => {
    const server = internalServer(40003);
    const remove = registerHop(server, '127.0.0.1:40003', '169.254.1.3');
    remove();
    expect(peerAddress(server, request)).toBe('169.254.1.3');
  });

  test("is a later connection's visitor once the port is reused, whatever the earlier one's removal does", () => {
    const server = internalServer(40004);
    const first = registerHop(server, '127.0.0.1:40004', '169.254.1.4');
    first();
    const second = registerHop(server, '127.0.0.1:40004', '169.254.1.5');
    first();
    expect(peerAddress(server, request)).toBe('169.254.1.5');
    second();
    expect(peerAddress(server, request)).toBe('169.254.1.5');
  });
});
