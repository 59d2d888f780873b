import { expect, test } from 'bun:test';
import { newRequestId } from '../src/ids.ts';

test('request ids are req_ and 32 hex digits, all different, across many refills of the random pool', () => {
  const ids = Array.from({ length: 2000 }, newRequestId);
  for (const id of ids) expect(id).toMatch(/^req_[0-9a-f]{32}$/);
  expect(new Set(ids).size).toBe(ids.length);
});
