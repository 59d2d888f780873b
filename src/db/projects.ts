import type { Db } from './open.ts';

/** One entry of a project's `volumes` setting: a volume by name, and where instances mount it. */
export interface VolumeSetting {
  name: string;
  mount_path: string;
}

/** A row of the projects table (`volumes` parsed from its JSON, `volumes_shared` as a boolean). */
export interface ProjectRow {
  id: string;
  name: string;
  port: number | null;
  health_check_path: string;
  instances: number;
  memory_mb: number;
  cpus: number;
  dockerfile: string | null;
  deploy_timeout: number;
  volumes: VolumeSetting[];
  volumes_shared: boolean;
  desired_state: 'running' | 'stopped';
  quota_instances: number;
  quota_memory_mb: number;
  quota_cpus: number;
  /** The most each of the project's volumes may hold, MiB; null for no limit. */
  quota_volume_mb: number | null;
  created_at: string;
  updated_at: string;
}

/** The settings a user may change. */
export type ProjectSettings = Pick<
  ProjectRow,
  | 'port'
  | 'health_check_path'
  | 'instances'
  | 'memory_mb'
  | 'cpus'
  | 'dockerfile'
  | 'deploy_timeout'
  | 'volumes'
  | 'volumes_shared'
>;

type StoredRow = Omit<ProjectRow, 'volumes' | 'volumes_shared'> & { volumes: string; volumes_shared: number };

const toStored = (row: ProjectRow): StoredRow => ({
  ...row,
  volumes: JSON.stringify(row.volumes),
  volumes_shared: row.volumes_shared ? 1 : 0,
});

const fromStored = (row: StoredRow): ProjectRow => ({
  ...row,
  volumes: JSON.parse(row.volumes) as VolumeSetting[],
  volumes_shared: row.volumes_shared === 1,
});

/** Statements on the projects table, prepared once. */
export function projectRepo(db: Db) {
  const insert = db.prepare(
    `INSERT INTO projects (id, name, port, health_check_path, instances, memory_mb, cpus, dockerfile, deploy_timeout,
       volumes, volumes_shared, desired_state, quota_instances, quota_memory_mb, quota_cpus, quota_volume_mb,
       created_at, updated_at)
     VALUES (@id, @name, @port, @health_check_path, @instances, @memory_mb, @cpus, @dockerfile, @deploy_timeout,
       @volumes, @volumes_shared, @desired_state, @quota_instances, @quota_memory_mb, @quota_cpus, @quota_volume_mb,
       @created_at, @updated_at)`,
  );
  const byName = db.prepare('SELECT * FROM projects WHERE name = ?');
  const list = db.prepare(
    `SELECT * FROM projects
     WHERE name > @after AND substr(name, 1, length(@prefix)) = @prefix
       AND (@only IS NULL OR name IN (SELECT value FROM json_each(@only)))
     ORDER BY name LIMIT @limit`,
  );
  const update = db.prepare(
    `UPDATE projects SET port = @port, health_check_path = @health_check_path, instances = @instances,
       memory_mb = @memory_mb, cpus = @cpus, dockerfile = @dockerfile, deploy_timeout = @deploy_timeout,
       volumes = @volumes, volumes_shared = @volumes_shared, desired_state = @desired_state,
       quota_instances = @quota_instances, quota_memory_mb = @quota_memory_mb, quota_cpus = @quota_cpus,
       quota_volume_mb = @quota_volume_mb, updated_at = @updated_at
     WHERE name = @name`,
  );
  const remove = db.prepare('DELETE FROM projects WHERE name = ?');
  const all = db.prepare('SELECT * FROM projects ORDER BY name');
  return {
    insert: (row: ProjectRow) => void insert.run(toStored(row)),
    findByName: (name: string) => {
      const row = byName.get(name) as StoredRow | undefined;
      return row && fromStored(row);
    },
    /** Projects by name after `after`, starting with `prefix`, limited to `only` names when given. */
    list: (q: { after: string; prefix: string; only: string[] | null; limit: number }) =>
      (list.all({ ...q, only: q.only ? JSON.stringify(q.only) : null }) as StoredRow[]).map(fromStored),
    update: (row: ProjectRow) => void update.run(toStored(row)),
    remove: (name: string) => remove.run(name).changes > 0,
    all: () => (all.all() as StoredRow[]).map(fromStored),
  };
}

/** The projects repository. */
export type ProjectRepo = ReturnType<typeof projectRepo>;
