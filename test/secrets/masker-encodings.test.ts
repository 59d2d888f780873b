import { describe, expect, test } from 'bun:test';
import { databaseUrl } from '../../src/databases/inspect.ts';
import { base64Cores, urlPasswords } from '../../src/secrets/encodings.ts';
import { MASK, Masker } from '../../src/secrets/masker.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const b64url = (s: string) => Buffer.from(s).toString('base64url');

/**
 * Whether someone reading `line` gets `secret` back: as is, URL-decoded, JSON-unescaped, or base64-
 * decoded (standard or url-safe) from any run of base64 characters at any alignment.
 */
function recoverable(line: string, secret: string): boolean {
  const wanted = Buffer.from(secret);
  const readings = [line];
  try {
    readings.push(decodeURIComponent(line));
  } catch {}
  for (const quoted of line.match(/"(?:[^"\\]|\\.)*"/g) ?? []) readings.push(JSON.parse(quoted) as string);
  if (readings.some((r) => r.includes(secret))) return true;
  for (const run of line.match(/[A-Za-z0-9+/_-]{4,}/g) ?? []) {
    const standard = run.replaceAll('-', '+').replaceAll('_', '/');
    for (let skip = 0; skip < 4; skip++) {
      if (Buffer.from(`${'A'.repeat(skip)}${standard}`, 'base64').includes(wanted)) return true;
    }
  }
  return false;
}

/** How a secret ends up in a log line. */
const ENCODINGS: [string, (secret: string) => string][] = [
  ['as is', (s) => `API_KEY=${s}`],
  ['base64', (s) => `token: ${b64(s)}`],
  ['url-safe base64', (s) => `state=${b64url(s)}`],
  ['base64 after 1 byte (Basic auth of a 1-character user)', (s) => `Authorization: Basic ${b64(`u:${s}`)}`],
  ['base64 after 2 bytes', (s) => `Authorization: Basic ${b64(`ab:${s}`)}`],
  ['base64 after 3 bytes', (s) => `Authorization: Basic ${b64(`abc:${s}`)}`],
  ['url-safe base64 inside a longer payload', (s) => `jwt=${b64url(`{"alg":"none","key":"${s}"}`)}`],
  ['URL-encoded', (s) => `GET /callback?secret=${encodeURIComponent(s)}&x=1`],
  ['JSON-escaped', (s) => `{"level":"info","config":${JSON.stringify({ key: s })}}`],
];

/** Secrets of different shapes: plain, with characters every encoding changes, multi-byte, multi-line. */
const SECRETS: [string, string][] = [
  ['a plain token', 'sk_live_4f9a8b7c6d5e'],
  ['a password with URL, JSON and base64 specials', `p@ss/w+rd?"quoted"\\back&é€~>>>`],
  ['a multi-line key', '-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END KEY-----'],
];

describe('secrets are masked in their common encodings', () => {
  for (const [what, secret] of SECRETS) {
    const masker = new Masker([secret]);
    for (const [encoding, write] of ENCODINGS) {
      test(`${what}, ${encoding}`, () => {
        const line = write(secret);
        // The attack works on the raw line...
        expect(recoverable(line, secret)).toBe(true);
        // ...and not on the masked one.
        const masked = masker.mask(line);
        expect(masked).toContain(MASK);
        expect(recoverable(masked, secret)).toBe(false);
      });
    }
  }

  test('text around a masked secret is kept', () => {
    const masker = new Masker(['sk_live_4f9a8b7c6d5e']);
    expect(masker.mask(`key=${encodeURIComponent('sk_live_4f9a8b7c6d5e')}&page=2`)).toBe(`key=${MASK}&page=2`);
    expect(masker.mask(`token: ${b64('sk_live_4f9a8b7c6d5e')} ok`)).toBe(`token: ${MASK} ok`);
  });

  test('short base64 forms are not masked, so ordinary text is not mangled', () => {
    expect(base64Cores(Buffer.from('abcd'))).toEqual([]);
    const masker = new Masker(['abcd']);
    expect(masker.mask('YWJj is some text')).toBe('YWJj is some text');
  });

  test('overlapping secrets are hidden together, neither uncovering the other', () => {
    const masker = new Masker(['abcdef-secret', 'xyz-abcd']);
    expect(masker.mask('xyz-abcdef-secret!')).toBe(`${MASK}!`);
  });
});

describe('the database password alone is masked, not only the whole DATABASE_URL', () => {
  const password = `p@ss:/?#%'"\\ Zq8xN2vL0kR7tY4w`;
  const url = databaseUrl({ user: 'app', host: 'slipway-web-db', port: 5432, database: 'app' }, password);
  const masker = new Masker([url]);

  test('the URL holds the password URL-encoded; both forms are secrets', () => {
    expect(urlPasswords(url)).toEqual([encodeURIComponent(password), password]);
    expect(urlPasswords('https://example.com/a@b')).toEqual([]);
    expect(urlPasswords('postgres://app@db/app')).toEqual([]);
  });

  const lines: [string, string][] = [
    ['the whole URL', `connecting to ${url}`],
    ['the password printed alone', `FATAL: password ${password} rejected`],
    ['the password as it sits in the URL', `pw=${encodeURIComponent(password)}`],
    ['the password in base64', `PGPASSWORD_B64=${b64(password)}`],
    ['the password JSON-escaped', JSON.stringify({ password })],
    ['a libpq keyword string', `host=db user=app password=${password} dbname=app`],
  ];
  for (const [what, line] of lines) {
    test(what, () => {
      expect(recoverable(line, password)).toBe(true);
      const masked = masker.mask(line);
      expect(masked).toContain(MASK);
      expect(recoverable(masked, password)).toBe(false);
    });
  }
});
