import { describe, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import * as acme from 'acme-client';
import { acmeAccount } from '../../src/certificates/acme-account.ts';
import { configureAcmeHttp } from '../../src/certificates/acme-http.ts';
import { getMeta } from '../../src/db/meta.ts';
import { type Db, openDatabase } from '../../src/db/open.ts';
import { SecretBox } from '../../src/secrets/secret-box.ts';

/** `db`, except that just before its first write to the meta table another writer stores `key` → `value`. */
function racedBy(db: Db, key: string, value: string): Db {
  let raced = false;
  return new Proxy(db, {
    get(target, prop) {
      if (prop !== 'prepare') {
        const v = Reflect.get(target, prop, target);
        return typeof v === 'function' ? v.bind(target) : v;
      }
      return (sql: string) => {
        const stmt = target.prepare(sql);
        if (!sql.startsWith('INSERT INTO meta')) return stmt;
        return {
          get: (...args: unknown[]) => stmt.get(...args),
          run: (...args: unknown[]) => {
            if (!raced) {
              raced = true;
              target.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(key, value);
            }
            return stmt.run(...args);
          },
        };
      };
    },
  });
}

describe('the ACME account key', () => {
  test('two first orders racing for the account key both use the one written first', async () => {
    const db = openDatabase(':memory:');
    const box = new SecretBox(randomBytes(32));
    configureAcmeHttp(null);
    const theirs = box.seal((await acme.crypto.createPrivateEcdsaKey('P-256')).toString(), 'acme:account-key');
    const account = acmeAccount({
      db: racedBy(db, 'acme_account_key', theirs),
      box,
      // Nothing listens here: the client fails after the key is chosen, before any account exists.
      directoryUrl: 'http://127.0.0.1:9/dir',
      email: null,
      polling: { minMs: 10, maxMs: 10, attempts: 1 },
    });
    await account.client().catch(() => undefined);
    expect(getMeta(db, 'acme_account_key')).toBe(theirs);
    db.close();
  });
});
