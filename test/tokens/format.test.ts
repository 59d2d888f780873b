import { describe, expect, test } from 'bun:test';
import { generateToken, hashToken, isWellFormed, tokenHint } from '../../src/tokens/format.ts';

describe('token format', () => {
  test('a generated token has the slw_ prefix, 32 random and 6 checksum characters', () => {
    const token = generateToken();
    expect(token).toMatch(/^slw_[0-9A-Za-z]{38}$/);
    expect(isWellFormed(token)).toBe(true);
  });

  test('generated tokens do not repeat', () => {
    const tokens = new Set(Array.from({ length: 2000 }, generateToken));
    expect(tokens.size).toBe(2000);
  });

  test('a single changed character fails the checksum', () => {
    const token = generateToken();
    for (const i of [4, 20, 35, 41]) {
      const c = token[i] === 'A' ? 'B' : 'A';
      expect(isWellFormed(token.slice(0, i) + c + token.slice(i + 1))).toBe(false);
    }
  });

  test('wrong prefixes and lengths are not well formed', () => {
    const token = generateToken();
    expect(isWellFormed(token.replace('slw_', 'ghp_'))).toBe(false);
    expect(isWellFormed(token.slice(0, -1))).toBe(false);
    expect(isWellFormed(`${token}x`)).toBe(false);
    expect(isWellFormed('')).toBe(false);
  });

  test('the stored hash is the hex SHA-256 and the hint reveals only the first characters', () => {
    expect(hashToken('slw_abc')).toBe(new Bun.CryptoHasher('sha256').update('slw_abc').digest('hex'));
    expect(tokenHint('slw_ABCDEFGH')).toBe('slw_ABCD…');
  });
});
