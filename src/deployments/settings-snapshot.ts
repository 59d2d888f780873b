import type { ProjectRow, VolumeSetting } from '../db/projects.ts';

/** The project settings a deployment records when it is queued, for comparing releases. */
export interface DeploymentSettings {
  port: number | null;
  health_check_path: string;
  instances: number;
  memory_mb: number;
  cpus: number;
  dockerfile: string | null;
  deploy_timeout: number;
  volumes: VolumeSetting[];
  volumes_shared: boolean;
}

/** The settings of `p` as a deployment's snapshot (JSON). */
export function settingsSnapshot(p: ProjectRow): string {
  const s: DeploymentSettings = {
    port: p.port,
    health_check_path: p.health_check_path,
    instances: p.instances,
    memory_mb: p.memory_mb,
    cpus: p.cpus,
    dockerfile: p.dockerfile,
    deploy_timeout: p.deploy_timeout,
    volumes: p.volumes,
    volumes_shared: p.volumes_shared,
  };
  return JSON.stringify(s);
}

/** Reads a snapshot back; null when the deployment predates them. */
export function readSettings(snapshot: string | null): DeploymentSettings | null {
  return snapshot === null ? null : (JSON.parse(snapshot) as DeploymentSettings);
}
