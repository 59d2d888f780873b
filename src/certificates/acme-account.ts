import type * as acme from 'acme-client';
import type { Db } from '../db/open.ts';
import { getMeta, setMeta, setMetaOnce } from '../db/meta.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import { loadAcme } from './acme-http.ts';

const KEY_META = 'acme_account_key';
const KEY_CONTEXT = 'acme:account-key';

/** How the agent's ACME account is found and how long a client polls the CA. */
export interface AcmeAccountDeps {
  db: Db;
  box: SecretBox;
  directoryUrl: string;
  /** The account's contact address, or null for none. */
  email: string | null;
  /** Polling of orders and challenges: first wait, longest wait (ms) and number of polls. */
  polling: { minMs: number; maxMs: number; attempts: number };
}

/**
 * The agent's ACME account: one ECDSA P-256 key, made on first use and kept sealed in the meta
 * table, and the account URL the CA gave it (kept per directory). The first order in a process
 * finds the key's account (updating its contact when an email is set); a key the CA does not know
 * yet, or no longer (a test CA restarted), is registered, agreeing to its terms, without operator
 * work.
 */
export function acmeAccount(d: AcmeAccountDeps) {
  let client: Promise<acme.Client> | null = null;
  return {
    /** A client logged in to the account; a failed login is retried on the next call. */
    client(): Promise<acme.Client> {
      client ??= connect(d).catch((err: unknown) => {
        client = null;
        throw err;
      });
      return client;
    },
    /** The ACME directory the account lives in. */
    directoryUrl: d.directoryUrl,
    /** The account URL recorded for this directory, or null before the first order. */
    url: (): string | null => getMeta(d.db, urlKey(d.directoryUrl)),
  };
}

/** The agent's ACME account. */
export type AcmeAccount = ReturnType<typeof acmeAccount>;

async function connect(d: AcmeAccountDeps): Promise<acme.Client> {
  const { Client } = await loadAcme();
  const client = new Client({
    directoryUrl: d.directoryUrl,
    accountKey: await accountKey(d.db, d.box),
    backoffMin: d.polling.minMs,
    backoffMax: d.polling.maxMs,
    backoffAttempts: d.polling.attempts,
  });
  const contact = d.email ? { contact: [`mailto:${d.email}`] } : {};
  // The key's account is looked up first: registering a known key again sends the CA an account
  // update that changes nothing, which a strict CA (Pebble) refuses.
  const found = await client.createAccount({ onlyReturnExisting: true }).then(
    () => true,
    () => false,
  );
  if (!found) await client.createAccount({ termsOfServiceAgreed: true, ...contact });
  else if (d.email) await client.updateAccount(contact);
  setMeta(d.db, urlKey(d.directoryUrl), client.getAccountUrl());
  return client;
}

async function accountKey(db: Db, box: SecretBox): Promise<string> {
  const stored = getMeta(db, KEY_META);
  if (stored) return box.open(stored, KEY_CONTEXT);
  const { crypto } = await loadAcme();
  const pem = (await crypto.createPrivateEcdsaKey('P-256')).toString();
  // Another call or process may have made one meanwhile: the first one written wins, in one statement.
  return box.open(setMetaOnce(db, KEY_META, box.seal(pem, KEY_CONTEXT)), KEY_CONTEXT);
}

function urlKey(directoryUrl: string): string {
  return `acme_account_url:${directoryUrl}`;
}
