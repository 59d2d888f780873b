import { describe, expect, test } from 'bun:test';
import { canonicalHostname, normalizeHostname, type OwnNames } from '../../src/domains/hostname.ts';
import { ValidationError } from '../../src/errors.ts';

const OWN: OwnNames = { baseDomain: 'apps.example.com', apiDomain: 'slipway.example.com' };

describe('normalizeHostname', () => {
  test.each([
    ['shop.example.com', 'shop.example.com'],
    ['  Shop.Example.COM  ', 'shop.example.com'],
    ['shop.example.com.', 'shop.example.com'],
    ['Bücher.example', 'xn--bcher-kva.example'],
    ['ÉCOLE.fr', 'xn--cole-9oa.fr'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['a-b.c-d.example', 'a-b.c-d.example'],
    ['123.example.com', '123.example.com'],
    ['example.com', 'example.com'],
    [`${'a'.repeat(63)}.example.com`, `${'a'.repeat(63)}.example.com`],
    [`${'abcdefghi.'.repeat(25)}com`, `${'abcdefghi.'.repeat(25)}com`],
    ['apps.example.com.evil.test', 'apps.example.com.evil.test'],
  ])('accepts %p as %p', (raw, expected) => {
    expect(normalizeHostname(raw, OWN)).toBe(expected);
  });

  const refused: [string, string][] = [
    ['', 'A host name such as shop.example.com is required'],
    ['   ', 'A host name such as shop.example.com is required'],
    ['203.0.113.7', 'An IP address is not a host name: point a host name at this server and add that'],
    ['[2001:db8::1]', 'An IP address is not a host name: point a host name at this server and add that'],
    ['2001:db8::1', 'An IP address is not a host name: point a host name at this server and add that'],
    ['1.2.3', 'An IP address is not a host name: point a host name at this server and add that'],
    ['0x7f.1', 'An IP address is not a host name: point a host name at this server and add that'],
    ['shop', 'A host name needs at least two labels, such as shop.example.com'],
    ['*.example.com', 'Wildcards are not supported: add each host name on its own'],
    ['shop.*.com', 'Wildcards are not supported: add each host name on its own'],
    ['a..example.com', 'A host name has no empty labels (two dots in a row)'],
    [
      '-shop.example.com',
      'The label "-shop" is not 1 to 63 letters, digits and dashes, starting and ending with a letter or digit',
    ],
    [
      'shop-.example.com',
      'The label "shop-" is not 1 to 63 letters, digits and dashes, starting and ending with a letter or digit',
    ],
    [
      `${'a'.repeat(64)}.example.com`,
      `The label "${'a'.repeat(64)}" is not 1 to 63 letters, digits and dashes, starting and ending with a letter or digit`,
    ],
    [`${'abcdefghi.'.repeat(26)}com`, 'A host name has at most 253 characters'],
    ['shop_1.example.com', 'Only letters, digits, dashes and dots may appear in a host name'],
    ['a/b.example.com', 'Only letters, digits, dashes and dots may appear in a host name'],
    ['shop.example.com:8080', 'Only letters, digits, dashes and dots may appear in a host name'],
    ['shop example.com', 'Only letters, digits, dashes and dots may appear in a host name'],
    ['xn--zz.example', 'It is not a valid internationalised host name'],
    ['localhost', 'A host name needs at least two labels, such as shop.example.com'],
    ['web.localhost', 'Localhost and its subdomains only ever reach the machine that asks'],
    ['apps.example.com', 'It is the base domain (SLIPWAY_BASE_DOMAIN), under which projects get their own names'],
    [
      'web.apps.example.com',
      "Names under the base domain apps.example.com are the projects' own (<project>.apps.example.com)",
    ],
    [
      'a.b.apps.example.com',
      "Names under the base domain apps.example.com are the projects' own (<project>.apps.example.com)",
    ],
    ['Slipway.Example.com.', "It is the agent's API domain (SLIPWAY_API_DOMAIN)"],
  ];
  test.each(refused)('refuses %p with a 422 saying why', (raw, message) => {
    let error: unknown;
    try {
      normalizeHostname(raw, OWN);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ValidationError);
    const e = error as ValidationError;
    expect(e.status).toBe(422);
    expect(e.issues).toEqual([{ path: '/hostname', message }]);
    expect(e.message).toStartWith('Cannot add ');
  });

  test('the message names what was given and the problem', () => {
    expect(() => normalizeHostname('203.0.113.7', OWN)).toThrow(
      'Cannot add "203.0.113.7": an IP address is not a host name: point a host name at this server and add that',
    );
  });

  test('canonicalHostname finds the stored spelling of a name in another case or with a trailing dot', () => {
    expect(canonicalHostname('SHOP.example.com.')).toEqual({ hostname: 'shop.example.com' });
    expect(canonicalHostname('münchen.de')).toEqual({ hostname: 'xn--mnchen-3ya.de' });
  });
});
