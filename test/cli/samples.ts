/** API objects as the agent returns them, for the CLI's tests. */
import type { Deployment, Project, Token } from '../../src/cli/api-types.ts';

/** A project named `name`. */
export function project(name: string, extra: Partial<Project> = {}): Project {
  return {
    id: `prj_${name}`,
    name,
    hostname: `${name}.localhost`,
    port: null,
    health_check_path: '/',
    instances: 1,
    memory_mb: 512,
    cpus: 1,
    deploy_timeout: 60,
    dockerfile: null,
    volumes: [],
    volumes_shared: false,
    desired_state: 'running',
    quota: { instances: 10, memory_mb: 8192, cpus: 10, volume_mb: null },
    volumes_size_bytes: 0,
    created_at: '2026-01-01T03:04:05.000Z',
    updated_at: '2026-01-01T03:04:05.000Z',
    ...extra,
  };
}

/** Deployment number `n` of `project`. */
export function deployment(project: string, n: number, extra: Partial<Deployment> = {}): Deployment {
  return {
    id: `dep_${project}_${n}`,
    project,
    number: n,
    status: 'live',
    trigger: 'upload',
    retry_of: null,
    rollback_of: null,
    source: { sha256: 'ab'.repeat(32), bytes: 2048, format: 'tar.gz', kept: true },
    stack: 'static',
    image: { id: 'sha256:1', tag: `slipway/${project}:${n}` },
    image_ref: null,
    exposed_port: 8080,
    build_duration_ms: 1500,
    failure_reason: null,
    created_at: '2026-01-02T03:00:05.000Z',
    started_at: '2026-01-02T03:00:06.000Z',
    finished_at: '2026-01-02T03:00:09.500Z',
    updated_at: '2026-01-02T03:00:09.500Z',
    ...extra,
  };
}

/** A token as listed. */
export function token(id: string, extra: Partial<Token> = {}): Token {
  return {
    id,
    name: 'ci',
    scope: 'deploy',
    projects: ['web'],
    hint: 'slw_AbCd',
    created_at: '2026-01-01T00:00:00.000Z',
    expires_at: null,
    last_used_at: '2026-01-02T02:04:05.000Z',
    revoked_at: null,
    ...extra,
  };
}
