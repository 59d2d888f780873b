import type { ActivityService, Actor } from '../activity/service.ts';
import type { Db } from '../db/open.ts';
import { decodeCursor, toPage, type Page } from '../db/pagination.ts';
import type { RegistryRepo, RegistryRow } from '../db/registries.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import { newId, nowIso } from '../ids.ts';
import { InvalidReference, registryHost } from '../images/reference.ts';
import type { SecretBox } from '../secrets/secret-box.ts';

/** Registry credentials as the API shows them: never the password. */
export interface RegistryView {
  id: string;
  host: string;
  username: string;
  created_at: string;
  updated_at: string;
}

/** The credentials a pull from one host sends (dockerode's `authconfig`). */
export interface PullAuth {
  username: string;
  password: string;
  serveraddress: string;
}

const context = (host: string) => `registry:${host}`;

/**
 * Pull credentials, one set per registry host, shared by every project on this agent and managed
 * by admins only; the password is sealed at rest (bound to its host) and never shown again.
 */
export function registryService(d: { db: Db; repo: RegistryRepo; activity: ActivityService; box: SecretBox }) {
  const view = (r: RegistryRow): RegistryView => ({
    id: r.id,
    host: r.host,
    username: r.username,
    created_at: r.created_at,
    updated_at: r.updated_at,
  });
  const hostOf = (raw: string, path: string): string => {
    try {
      return registryHost(raw);
    } catch (err) {
      if (!(err instanceof InvalidReference)) throw err;
      throw new ValidationError(`Invalid registry host "${raw}": it ${err.message}`, [{ path, message: err.message }]);
    }
  };
  const existing = (raw: string): RegistryRow => {
    const row = d.repo.find(hostOf(raw, '/host'));
    if (!row) throw new NotFoundError(`No registry credentials for "${raw}"`);
    return row;
  };

  return {
    /** Stores credentials for `host`, replacing any it had (the response says which). */
    add(
      actor: Actor,
      body: { host: string; username: string; password: string },
    ): { registry: RegistryView; replaced: boolean } {
      const host = hostOf(body.host, '/host');
      return d.db.transaction(() => {
        const replaced = d.repo.find(host) !== undefined;
        const row = d.repo.upsert({
          id: newId('reg'),
          host,
          username: body.username,
          password: d.box.seal(body.password, context(host)),
          created_by: actor.tokenId,
          at: nowIso(),
        });
        d.activity.record(actor, {
          action: replaced ? 'registry.update' : 'registry.create',
          targetType: 'registry',
          target: host,
          changes: { username: body.username },
        });
        return { registry: view(row), replaced };
      })();
    },

    list(q: { cursor?: string; limit: number }): Page<RegistryView> {
      const after = decodeCursor('registries', q.cursor, 'string') ?? '';
      const page = toPage(d.repo.list(after, q.limit + 1), q.limit, (r) => r.host, 'registries');
      return { data: page.data.map(view), pagination: page.pagination };
    },

    get: (host: string): RegistryView => view(existing(host)),

    /** Forgets the credentials of `host`; later pulls from it go without. */
    remove(actor: Actor, host: string): RegistryView {
      const row = existing(host);
      d.db.transaction(() => {
        d.repo.remove(row.host);
        d.activity.record(actor, { action: 'registry.delete', targetType: 'registry', target: row.host });
      })();
      return view(row);
    },

    /** True when an admin registered `host` (pulls from a private address need that). */
    registered: (host: string): boolean => d.repo.find(host) !== undefined,

    /** The unsealed credentials for pulls from `host`, if any. */
    authFor(host: string): PullAuth | null {
      const row = d.repo.find(host);
      if (!row) return null;
      const serveraddress = host === 'docker.io' ? 'https://index.docker.io/v1/' : host;
      return { username: row.username, password: d.box.open(row.password, context(host)), serveraddress };
    },
  };
}

/** The registry credentials service. */
export type RegistryService = ReturnType<typeof registryService>;
