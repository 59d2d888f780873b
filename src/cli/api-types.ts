/** The shapes the CLI reads from the REST API (see GET /v1/openapi.json); plain types, no Elysia. */

/** A project and its settings. */
export interface Project {
  id: string;
  name: string;
  hostname: string;
  port: number | null;
  health_check_path: string;
  instances: number;
  memory_mb: number;
  cpus: number;
  deploy_timeout: number;
  dockerfile: string | null;
  desired_state: 'running' | 'stopped';
  created_at: string;
  updated_at: string;
}

/** A deployment and its build. */
export interface Deployment {
  id: string;
  project: string;
  number: number;
  status: 'queued' | 'building' | 'deploying' | 'live' | 'failed' | 'canceled' | 'replaced';
  trigger: string;
  retry_of: string | null;
  rollback_of: string | null;
  source: { sha256: string; bytes: number; format: string; kept: boolean } | null;
  stack: string | null;
  image: { id: string | null; tag: string } | null;
  exposed_port: number | null;
  build_duration_ms: number | null;
  failure_reason: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  updated_at: string;
}

/** The statuses a deployment ends in. */
export const FINAL_STATUSES: readonly string[] = ['live', 'failed', 'canceled', 'replaced'];

/** An API token as listed (never its secret). */
export interface Token {
  id: string;
  name: string;
  scope: 'read' | 'deploy' | 'admin';
  projects: string[] | null;
  hint: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** GET /v1/me. */
export interface Me {
  id: string;
  name: string;
  scope: string;
  projects: string[] | null;
}

/** GET /v1/health. */
export interface Health {
  status: 'ok' | 'degraded';
  version: string;
  uptime_seconds: number;
  database: { ok: boolean };
  docker: { ok: boolean; version: string | null; error: string | null };
}

/** One row of the activity log. */
export interface Activity {
  id: string;
  created_at: string;
  action: string;
  target_type: string;
  target: string;
  project: string | null;
  token: { id: string | null; name: string | null };
  request_id: string | null;
  client_ip: string | null;
  changes: Record<string, unknown>;
}

/** One environment variable of a project (value masked unless revealed). */
export interface EnvVar {
  key: string;
  value: string;
  /** "database" for the DATABASE_URL Slipway manages; null for the user's own. */
  managed_by?: string | null;
  created_at: string;
  updated_at: string;
}

/** A project's database (the password always masked; only the app gets the real one). */
export interface Database {
  status: string;
  image?: string;
  version: string | null;
  size_bytes: number | null;
  connection: { host: string; port: number; database: string; user: string; password: string } | null;
  url?: string;
  created_at: string;
}

/** One line of a project's runtime log. */
export interface LogLine {
  time: string;
  instance: string;
  stream: 'stdout' | 'stderr' | string;
  line: string;
}

/** Resource use of one container. */
export interface Metric {
  container: string;
  instance: string;
  cpu_percent: number;
  memory_bytes: number;
  memory_limit_bytes: number | null;
  network_rx_bytes: number;
  network_tx_bytes: number;
  block_read_bytes: number;
  block_write_bytes: number;
  restarts: number;
  uptime_seconds: number;
}
