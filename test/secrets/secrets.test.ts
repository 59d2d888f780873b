import { describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SecretBox } from '../../src/secrets/secret-box.ts';
import { loadMasterKey } from '../../src/secrets/master-key.ts';
import { MASK, Masker } from '../../src/secrets/masker.ts';

describe('SecretBox', () => {
  const box = new SecretBox(randomBytes(32));

  test('round-trips a value and never repeats a ciphertext', () => {
    const a = box.seal('s3cret value', 'env:prj_1:API_KEY');
    const b = box.seal('s3cret value', 'env:prj_1:API_KEY');
    expect(a).toStartWith('v1.');
    expect(a).not.toBe(b);
    expect(a).not.toContain('s3cret');
    expect(box.open(a, 'env:prj_1:API_KEY')).toBe('s3cret value');
  });

  test('refuses a ciphertext moved to another project or key', () => {
    const sealed = box.seal('value', 'env:prj_1:A');
    expect(() => box.open(sealed, 'env:prj_2:A')).toThrow();
    expect(() => box.open(sealed, 'env:prj_1:B')).toThrow();
  });

  test('refuses a tampered ciphertext', () => {
    const sealed = box.seal('value', 'ctx');
    const raw = Buffer.from(sealed.slice(3), 'base64url');
    raw[14] = raw[14]! ^ 1;
    expect(() => box.open(`v1.${raw.toString('base64url')}`, 'ctx')).toThrow();
  });

  test('refuses a key that is not 32 bytes', () => {
    expect(() => new SecretBox(randomBytes(16))).toThrow('The master key must be 32 bytes');
  });
});

describe('the master key', () => {
  test('is created once in the data directory with mode 0600', () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-key-'));
    const a = loadMasterKey({ envKey: null, credentialsDirectory: null, dataDir: dir });
    const b = loadMasterKey({ envKey: null, credentialsDirectory: null, dataDir: dir });
    expect(a.equals(b)).toBe(true);
    expect(a.length).toBe(32);
    expect(statSync(join(dir, 'master.key')).mode & 0o777).toBe(0o600);
  });

  test('comes from SLIPWAY_MASTER_KEY, then a systemd credential, before the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-key-'));
    const fromEnv = randomBytes(32);
    expect(
      loadMasterKey({ envKey: fromEnv.toString('base64'), credentialsDirectory: null, dataDir: dir }).equals(fromEnv),
    ).toBe(true);
    const creds = mkdtempSync(join(tmpdir(), 'slipway-creds-'));
    const fromCredential = randomBytes(32);
    require('node:fs').writeFileSync(join(creds, 'slipway-master-key'), fromCredential.toString('base64'));
    expect(loadMasterKey({ envKey: null, credentialsDirectory: creds, dataDir: dir }).equals(fromCredential)).toBe(
      true,
    );
    expect(() => readFileSync(join(dir, 'master.key'))).toThrow();
  });

  test('a malformed key is refused with where it came from', () => {
    expect(() => loadMasterKey({ envKey: 'c2hvcnQ=', credentialsDirectory: null, dataDir: '/nonexistent' })).toThrow(
      'The master key in SLIPWAY_MASTER_KEY is not base64 of 32 bytes',
    );
  });
});

describe('Masker', () => {
  test('masks every occurrence, longest value first', () => {
    const m = new Masker(['hunter22', 'hunter22-extended', 'abc']);
    expect(m.mask('pw=hunter22-extended and hunter22')).toBe(`pw=${MASK} and ${MASK}`);
    expect(m.mask('abc is too short to mask')).toBe('abc is too short to mask');
  });

  test('masks a multi-line value line by line', () => {
    const m = new Masker(['-----BEGIN KEY-----\nMIIEvQIBADANBg\n-----END KEY-----']);
    expect(m.mask('MIIEvQIBADANBg')).toBe(MASK);
  });
});
