import { describe, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import * as acme from 'acme-client';
import { acmeAccount } from '../../src/certificates/acme-account.ts';
import { configureAcmeHttp } from '../../src/certificates/acme-http.ts';
import { getMeta } from '../../src/db/meta.ts';
import { type Db, openDatabase } from '../../src/db/open.ts';
import { SecretBox } from '../../src/secrets/secret-box.ts';
import { createDeps } from '../../src/deps.ts';
import { createLogger } from '../../src/log.ts';
import { acmeSuite } from './helpers.ts';

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

describe('the ACME account after a restart', () => {
  const acme = acmeSuite();

  test('an agent started again, with no email, orders through the account it recorded', async () => {
    const agent = acme.agent();
    await agent.deps.certificates.issue(agent.addDomain('web', 'before.example.test'));
    const url = getMeta(agent.deps.db, `acme_account_url:${acme.servers.directoryUrl}`);
    expect(url).toStartWith('https://localhost:');
    const restarted = createDeps(agent.deps.config, { log: createLogger('error', () => {}) });
    try {
      await restarted.certificates.issue(agent.addDomain('web', 'after.example.test'));
      expect(agent.domains.byHostname('after.example.test')).toMatchObject({ status: 'active', reason: null });
      expect(getMeta(restarted.db, `acme_account_url:${acme.servers.directoryUrl}`)).toBe(url);
    } finally {
      restarted.close();
    }
  });

  test('an agent whose recorded account address is stale finds the account by its key', async () => {
    const agent = acme.agent();
    await agent.deps.certificates.issue(agent.addDomain('web', 'known.example.test'));
    const key = `acme_account_url:${acme.servers.directoryUrl}`;
    const url = getMeta(agent.deps.db, key)!;
    agent.deps.db.prepare('UPDATE meta SET value = ? WHERE key = ?').run(`${url}-forgotten`, key);
    const restarted = createDeps(agent.deps.config, { log: createLogger('error', () => {}) });
    try {
      await restarted.certificates.issue(agent.addDomain('web', 'again.example.test'));
      expect(agent.domains.byHostname('again.example.test')).toMatchObject({ status: 'active', reason: null });
      expect(getMeta(restarted.db, key)).toBe(url);
    } finally {
      restarted.close();
    }
  });
});
