/**
 * The fast lane's 200 answers are made from one prepared Headers per limit and reset second, whose
 * per-request entries are overwritten for each answer. An answer must keep its own values however
 * many answers are made after it and before it is sent, and carry exactly the gate's headers.
 */
import { describe, expect, test } from 'bun:test';
import { jsonResponse, JSON_TYPE } from '../../src/api/fast-lane/headers.ts';
import { changingGateHeaders, windowHeaders } from '../../src/api/admission.ts';
import type { RateDecision } from '../../src/api/rate-limiter.ts';

const decision = (remaining: number, resetSeconds = 42, limit = 100): RateDecision => ({
  allowed: true,
  limit,
  remaining,
  resetSeconds,
});

/** The headers the gate writes for `requestId` under `d`, plus Elysia's JSON content type. */
function expected(requestId: string, d: RateDecision): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': JSON_TYPE };
  const changing = changingGateHeaders(requestId, d);
  for (let i = 0; i < changing.length; i += 2) headers[changing[i]!] = changing[i + 1]!;
  for (const [name, value] of windowHeaders(d.limit, d.resetSeconds)) headers[name] = value;
  return headers;
}

describe('the lane’s answers', () => {
  test('carry exactly the gate’s headers and the body', async () => {
    const d = decision(7);
    const res = jsonResponse('{"a":1}', 'req_one', d);
    expect(Object.fromEntries(res.headers)).toEqual(expected('req_one', d));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"a":1}');
  });

  test('keep their own request id and counts when later answers of the same second are made before they are sent', () => {
    const answers = [5, 4, 3].map((remaining) => ({
      id: `req_${remaining}`,
      d: decision(remaining),
      res: jsonResponse('{}', `req_${remaining}`, decision(remaining)),
    }));
    for (const { id, d, res } of answers) expect(Object.fromEntries(res.headers)).toEqual(expected(id, d));
  });

  test('keep their own values across limits and reset seconds made in between', () => {
    const first = jsonResponse('{}', 'req_a', decision(9, 10, 50));
    const second = jsonResponse('{}', 'req_b', decision(99, 11, 500));
    const third = jsonResponse('{}', 'req_c', decision(8, 10, 50));
    expect(Object.fromEntries(first.headers)).toEqual(expected('req_a', decision(9, 10, 50)));
    expect(Object.fromEntries(second.headers)).toEqual(expected('req_b', decision(99, 11, 500)));
    expect(Object.fromEntries(third.headers)).toEqual(expected('req_c', decision(8, 10, 50)));
  });

  test('are not changed by a change made to an earlier answer’s headers', () => {
    const first = jsonResponse('{}', 'req_x', decision(2));
    first.headers.set('x-request-id', 'tampered');
    const second = jsonResponse('{}', 'req_y', decision(1));
    expect(second.headers.get('x-request-id')).toBe('req_y');
    expect(Object.fromEntries(second.headers)).toEqual(expected('req_y', decision(1)));
  });
});
