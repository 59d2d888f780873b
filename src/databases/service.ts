import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Db } from '../db/open.ts';
import type { DatabaseRepo } from '../db/databases.ts';
import type { ProjectRepo, ProjectRow } from '../db/projects.ts';
import type { ActivityService, Actor } from '../activity/service.ts';
import type { EnvService } from '../env/service.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import type { DeploymentView } from '../deployments/view.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import { MASK } from '../secrets/masker.ts';
import { nowIso } from '../ids.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { databaseUrl } from './inspect.ts';
import { appIsSuperuser } from './roles.ts';
import { DATABASE_PORT, databaseContainerName, databaseIdentity, type DatabaseInfo } from './spec.ts';
import { findProject } from '../projects/find.ts';
import type { DatabaseRef } from './inspect.ts';

/** How long a new database may take to accept connections. */
const PROVISION_TIMEOUT_MS = 120_000;

/** A database as the API shows it: the password masked. */
export interface DatabaseView {
  status: DatabaseInfo['status'];
  image: string;
  version: string | null;
  size_bytes: number | null;
  connection: { host: string; port: number; database: string; user: string; password: string };
  url: string;
  created_at: string;
  /** What the operator should know and fix, e.g. an app role that is still a superuser. */
  warnings: string[];
}

/** Why a database made before the app got its own role should be moved to a new one. */
export function superuserWarning(name: string, user: string): string {
  return (
    `The app's role "${user}" is this database's superuser (it was created before Slipway gave apps a role ` +
    `of their own), so the app could take over the database container: dump the database, delete it, create ` +
    `it again and restore the dump (slipway db dump -p ${name} -o db.dump; slipway db rm -p ${name}; ` +
    `slipway db create -p ${name}; slipway db restore -p ${name} db.dump)`
  );
}

/** What the database service needs. */
export interface DatabaseServiceDeps {
  db: Db;
  /** Where the database runs, and the project's network it joins. */
  runtime: Pick<Runtime, 'databases' | 'ensureNetwork'>;
  agentId: string;
  image: string;
  databases: DatabaseRepo;
  projects: ProjectRepo;
  activity: ActivityService;
  env: EnvService;
  box: SecretBox;
  /** Rolls the live release out with the new env; null when nothing is live. */
  redeploy(actor: Actor, project: string): DeploymentView | null;
}

/** A Postgres per project: provision, inspect, dump, restore, drop; DATABASE_URL follows it. */
export function databaseService(d: DatabaseServiceDeps) {
  const context = (projectId: string) => `database:${projectId}`;

  const project = (name: string): ProjectRow => findProject(d.projects, name);

  const refOf = (row: { container_id: string | null; image_id: string | null } | undefined): DatabaseRef => ({
    agentId: d.agentId,
    containerId: row?.container_id ?? null,
    imageId: row?.image_id ?? null,
  });

  async function current(name: string): Promise<{
    p: ProjectRow;
    row: NonNullable<ReturnType<DatabaseRepo['find']>>;
    info: DatabaseInfo | null;
    ref: DatabaseRef;
  }> {
    const p = project(name);
    const row = d.databases.find(p.id);
    if (!row) throw new NotFoundError(`Project "${name}" has no database`);
    let ref = refOf(row);
    const info = await d.runtime.databases.inspect(ref, name);
    // A database recorded before container ids were: found by its name once, by id from then on.
    if (row.container_id === null && info?.containerId && info.imageId) {
      d.databases.setContainer(p.id, info.containerId, info.imageId);
      ref = { ...ref, containerId: info.containerId, imageId: info.imageId };
    }
    return { p, row, info, ref };
  }

  function view(row: { image: string; created_at: string }, info: DatabaseInfo | null, name: string): DatabaseView {
    const identity = {
      host: info?.host ?? databaseContainerName(name),
      port: DATABASE_PORT as typeof DATABASE_PORT,
      ...databaseIdentity(name),
    };
    return {
      status: info?.status ?? 'missing',
      image: row.image,
      version: info?.version ?? null,
      size_bytes: info?.sizeBytes ?? null,
      connection: { ...identity, password: MASK },
      url: databaseUrl(identity, MASK),
      created_at: row.created_at,
      warnings: info && appIsSuperuser(info) ? [superuserWarning(name, info.user)] : [],
    };
  }

  return {
    /** Provisions the database, injects DATABASE_URL and rolls the app out. */
    async create(actor: Actor, name: string): Promise<{ database: DatabaseView; deployment: DeploymentView | null }> {
      const p = project(name);
      if (d.databases.find(p.id)) throw new ConflictError(`Cannot create a database for "${name}": it already has one`);
      const password = randomBytes(24).toString('base64url');
      const network = await d.runtime.ensureNetwork(name);
      const { info, recordId, imageId } = await d.runtime.databases.provision(
        { agentId: d.agentId, project: name, image: d.image, network, password },
        { timeoutMs: PROVISION_TIMEOUT_MS },
      );
      const row = {
        project_id: p.id,
        image: d.image,
        password: d.box.seal(password, context(p.id)),
        container_id: recordId,
        image_id: imageId,
        created_at: nowIso(),
      };
      d.db.transaction(() => {
        d.databases.insert(row);
        d.activity.record(actor, {
          action: 'database.create',
          targetType: 'database',
          target: name,
          project: name,
          changes: { image: d.image },
        });
      })();
      d.env.update(actor, name, { DATABASE_URL: databaseUrl(info, password) }, 'database');
      return { database: view(row, info, name), deployment: d.redeploy(actor, name) };
    },

    /** Status, version, size on disk and connection info with the password masked. */
    async get(name: string): Promise<DatabaseView> {
      const { row, info } = await current(name);
      return view(row, info, name);
    },

    /** A pg_dump in custom format, streamed. */
    async dump(actor: Actor, name: string): Promise<Readable> {
      const { ref } = await current(name);
      d.activity.record(actor, { action: 'database.dump', targetType: 'database', target: name, project: name });
      return d.runtime.databases.dump(ref, name);
    },

    /** Restores a custom-format dump over the current data. */
    async restore(actor: Actor, name: string, dump: Readable): Promise<void> {
      const { ref } = await current(name);
      d.activity.record(actor, { action: 'database.restore', targetType: 'database', target: name, project: name });
      await d.runtime.databases.restore(ref, name, dump);
    },

    /** Drops container and volume (only with ?confirm=<name>), removes DATABASE_URL, rolls out. */
    async remove(actor: Actor, name: string, confirm: string | undefined): Promise<DeploymentView | null> {
      const p = project(name);
      const row = d.databases.find(p.id);
      if (!row) throw new NotFoundError(`Project "${name}" has no database`);
      if (confirm !== name) {
        throw new ValidationError(
          `Deleting the database of "${name}" destroys its data: repeat the project name as ?confirm=${name}`,
          [{ path: '/confirm', message: `Expected "${name}"` }],
        );
      }
      await d.runtime.databases.drop(refOf(row), name);
      d.db.transaction(() => {
        d.databases.remove(p.id);
        d.activity.record(actor, { action: 'database.delete', targetType: 'database', target: name, project: name });
      })();
      const { changed } = d.env.update(actor, name, { DATABASE_URL: null });
      return changed ? d.redeploy(actor, name) : null;
    },

    /** Whether a project has a database (project deletion asks for confirmation then). */
    has: (projectId: string) => d.databases.find(projectId) !== undefined,

    /** Drops a project's database as part of deleting the project. */
    drop: (name: string) => d.runtime.databases.drop(refOf(d.databases.find(project(name).id)), name),
  };
}

/** The database service. */
export type DatabaseService = ReturnType<typeof databaseService>;
