/**
 * The Docker labels Slipway puts on what it creates, in one place. Labels scope clean-ups (an
 * agent never touches another agent's objects) and make `docker ps` readable; they are written by
 * Slipway and read back only through the helpers here.
 */

/** Label keys. */
export const LABEL = {
  managed: 'slipway.managed',
  agent: 'slipway.agent',
  project: 'slipway.project',
  deployment: 'slipway.deployment',
  number: 'slipway.number',
  role: 'slipway.role',
  volume: 'slipway.volume',
  databaseUser: 'slipway.database.user',
  databaseName: 'slipway.database.name',
  databaseSuperuser: 'slipway.database.superuser',
} as const;

/** Every key Slipway reads back from a Docker object; an image must carry only those Slipway gave it. */
export const LABEL_KEYS: ReadonlySet<string> = new Set(Object.values(LABEL));

/** The prefix every Slipway label starts with. */
export const LABEL_PREFIX = 'slipway.';

/** What a container (or the build network) is for. */
export type Role = 'app' | 'database' | 'build' | 'volume' | 'helper';

/** The labels of a deployment's app containers (plus `role`). */
export function deploymentLabels(agentId: string, d: { project: string; id: string; number: number }) {
  return {
    [LABEL.managed]: 'true',
    [LABEL.agent]: agentId,
    [LABEL.project]: d.project,
    [LABEL.deployment]: d.id,
    [LABEL.number]: String(d.number),
  };
}

/**
 * The labels of a release image built from a generated Dockerfile or pulled: the same for every
 * project of this agent, so the build step that adds them (just before the source is copied in,
 * see build/context.ts) is taken from the engine's cache after the host's first build of that
 * stack, a new project's first build included. Which project and deployment an image belongs to is
 * its tag, `slipway/<project>:<number>-<random>`, and SQLite (deployments.image_tag, image_id); its
 * containers carry the deployment's labels. Two projects building the same content share one image
 * under two tags, so a project's images are untagged, never removed by id (release/images.ts).
 */
export function releaseImageLabels(agentId: string) {
  return { [LABEL.managed]: 'true', [LABEL.agent]: agentId };
}

/**
 * The labels of a project's build stages, and of the whole image a project's own Dockerfile
 * builds: with the project in them, each project's steps after a FROM are its own (no other
 * project's RUN output is ever taken from the cache) and what a build leaves untagged is known to
 * be the project's (build/build-cache.ts).
 */
export function projectImageLabels(agentId: string, project: string) {
  return { ...releaseImageLabels(agentId), [LABEL.project]: project };
}

/** The labels of an app container. */
export function appLabels(agentId: string, d: { project: string; id: string; number: number }) {
  return { ...deploymentLabels(agentId, d), [LABEL.role]: 'app' satisfies Role };
}

/** The labels of a project's database container and volume. */
export function databaseLabels(
  agentId: string,
  project: string,
  db: { user: string; database: string; superuser: string },
) {
  return {
    [LABEL.managed]: 'true',
    [LABEL.agent]: agentId,
    [LABEL.project]: project,
    [LABEL.role]: 'database' satisfies Role,
    [LABEL.databaseUser]: db.user,
    [LABEL.databaseName]: db.database,
    [LABEL.databaseSuperuser]: db.superuser,
  };
}

/** The labels of one of a project's volumes (`volume` is its name in the project's setting). */
export function volumeLabels(agentId: string, project: string, volume: string) {
  return {
    [LABEL.managed]: 'true',
    [LABEL.agent]: agentId,
    [LABEL.project]: project,
    [LABEL.role]: 'volume' satisfies Role,
    [LABEL.volume]: volume,
  };
}

/** The labels of a short-lived container that only reads or fills a project's volume (never started). */
export function helperLabels(agentId: string, project: string) {
  return {
    [LABEL.managed]: 'true',
    [LABEL.agent]: agentId,
    [LABEL.project]: project,
    [LABEL.role]: 'helper' satisfies Role,
  };
}

/** The labels of a project's network (networks are shared by agents' projects of one name). */
export function networkLabels(project: string) {
  return { [LABEL.managed]: 'true', [LABEL.project]: project };
}

/** The labels of the network build steps run on, shared by every project (and agent) on the host. */
export function buildNetworkLabels() {
  return { [LABEL.managed]: 'true', [LABEL.role]: 'build' satisfies Role };
}

/** What a label filter may select on. */
export interface LabelQuery {
  agent?: string;
  project?: string;
  deployment?: string;
  role?: Role;
}

/** A `label` filter for Docker list calls: always `managed`, plus whatever `q` names. */
export function labelFilter(q: LabelQuery): string[] {
  const out: string[] = [`${LABEL.managed}=true`];
  if (q.role) out.push(`${LABEL.role}=${q.role}`);
  if (q.agent) out.push(`${LABEL.agent}=${q.agent}`);
  if (q.project) out.push(`${LABEL.project}=${q.project}`);
  if (q.deployment) out.push(`${LABEL.deployment}=${q.deployment}`);
  return out;
}

/** Reads one of Slipway's labels from a Docker object's label map. */
export function labelOf(
  labels: Record<string, string> | undefined | null,
  key: keyof typeof LABEL,
): string | undefined {
  return labels?.[LABEL[key]];
}
