/**
 * Admission reads the bearer token of every request. Its usual form is read without the regular
 * expression, so the two readings must agree on every header, hostile or odd ones included.
 */
import { describe, expect, test } from 'bun:test';
import { bearerToken } from '../../src/api/admission.ts';

const BEARER = /^Bearer\s+(\S+)\s*$/i;
const TOKEN = `slw_${'A1b2'.repeat(9)}xy`;

const HEADERS: [string, string | undefined][] = [
  [`Bearer ${TOKEN}`, TOKEN],
  [`bearer ${TOKEN}`, TOKEN],
  [`BEARER ${TOKEN}`, TOKEN],
  [`Bearer  ${TOKEN}`, TOKEN],
  [`Bearer\t${TOKEN}`, TOKEN],
  [`Bearer ${TOKEN} `, TOKEN],
  [`Bearer ${TOKEN}\u00a0`, TOKEN],
  [`Bearer ${TOKEN}\u3000`, TOKEN],
  [`Bearer ${TOKEN}\ufeff`, TOKEN],
  ['Bearer a-b_c', 'a-b_c'],
  ['Bearer é', 'é'],
  [`Bearer ${TOKEN} second`, undefined],
  [`Bearer ${TOKEN}\u2028x`, undefined],
  ['Bearer ', undefined],
  ['Bearer', undefined],
  ['Bearerx', undefined],
  ['Basic YWRtaW46eA==', undefined],
  [` Bearer ${TOKEN}`, undefined],
  ['', undefined],
];

describe('the bearer token of an Authorization header', () => {
  test.each(HEADERS)('is read from %j as the regular expression reads it', (header, token) => {
    expect(bearerToken(header)).toBe(token);
    expect(bearerToken(header)).toBe(BEARER.exec(header)?.[1]);
  });
});
