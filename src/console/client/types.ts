/** The API shapes the console reads (the server's view types, as JSON). */

export type Scope = 'read' | 'deploy' | 'admin';

export interface Me {
  id: string;
  name: string;
  scope: Scope;
  projects: string[] | null;
}

export interface Brief {
  id: string;
  number: number;
  status: string;
  created_at: string;
  finished_at: string | null;
}

export interface Overview {
  name: string;
  hostname: string;
  url: string;
  desired_state: 'running' | 'stopped';
  instances: number;
  live: Brief | null;
  last: Brief | null;
  domains: string[];
}

export interface Project {
  name: string;
  hostname: string;
  instances: number;
  desired_state: 'running' | 'stopped';
  port: number | null;
}

export interface Deployment {
  id: string;
  number: number;
  status: string;
  trigger: string;
  failure_reason: string | null;
  build_duration_ms: number | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  source: { sha256: string; bytes: number; format: string; kept: boolean } | null;
}

export interface EnvVar {
  key: string;
  value: string;
  managed_by: string | null;
  updated_at: string;
}

export interface Domain {
  hostname: string;
  status: string;
  reason: string | null;
  dns_records: { type: string; name: string; value: string; description: string }[];
  certificate: { issuer: string; not_after: string; source: string } | null;
}

export interface DatabaseInfo {
  status: string;
  version: string | null;
  size_bytes: number | null;
  created_at: string;
  warnings: string[];
}

export interface Metric {
  instance: string;
  cpu_percent: number;
  memory_bytes: number;
  memory_limit_bytes: number;
  network_rx_bytes: number;
  network_tx_bytes: number;
}

export interface Token {
  id: string;
  name: string;
  scope: Scope;
  projects: string[] | null;
  hint: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface Activity {
  id: string;
  created_at: string;
  action: string;
  target: string;
  project: string | null;
  token: { id: string | null; name: string | null };
  request_id: string | null;
}

export interface LogLine {
  time: string;
  instance: string;
  stream: 'stdout' | 'stderr';
  line: string;
}

/** Statuses a deployment ends in. */
export const FINAL = ['live', 'failed', 'canceled', 'replaced'];

export interface Volume {
  name: string;
  mount_path: string | null;
  created: boolean;
  docker_volume: string | null;
  size_bytes: number | null;
  measured_at: string | null;
  size_limit_bytes: number | null;
  created_at: string | null;
}

export type DeadLetterKind = 'deployment' | 'webhook_delivery' | 'backup' | 'certificate_renewal';

export interface DeadLetter {
  kind: DeadLetterKind;
  id: string;
  project: string | null;
  failed_at: string;
  reason: string | null;
  detail: Record<string, unknown>;
  retry: { method: 'POST'; path: string } | null;
}

export interface Webhook {
  id: string;
  url: string;
  events: string[];
  project: string | null;
  description: string | null;
  created_at: string;
}

export interface Delivery {
  id: string;
  event_id: string;
  event: string;
  project: string | null;
  status: 'pending' | 'delivered' | 'dead';
  attempts: number;
  response_code: number | null;
  error: string | null;
  created_at: string;
  redelivery_of: string | null;
}
