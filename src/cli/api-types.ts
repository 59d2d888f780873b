/**
 * The shapes the CLI reads from the REST API. They are the server's own view types, imported
 * as types only (nothing of the server is bundled for them), so the two cannot drift apart.
 */
import type { ProjectView } from '../projects/service.ts';
import type { DeploymentView } from '../deployments/view.ts';
import type { RollbackView } from '../deployments/service.ts';
import type { TokenView, Principal } from '../tokens/service.ts';
import type { ActivityView } from '../activity/service.ts';
import type { EnvVarView } from '../env/service.ts';
import type { DatabaseView } from '../databases/service.ts';
import type { VolumeView } from '../volumes/service.ts';
import type { BackupView, VerifyResult } from '../backups/service.ts';
import type { DomainView } from '../domains/view.ts';
import type { LogEntry } from '../observe/container-logs.ts';
import type { ContainerStats } from '../observe/container-stats.ts';
import type { CertificateView } from '../certificates/view.ts';
import type { RegistryView } from '../registries/service.ts';
import type { DeploymentComparison } from '../deployments/compare.ts';

/** A project and its settings. */
export type Project = ProjectView;
/** A deployment and its build. */
export type Deployment = DeploymentView;
/** POST …/rollback: the queued deployment and the env keys it changes back. */
export type Rollback = RollbackView;
/** An API token as listed (never its secret). */
export type Token = TokenView;
/** GET /v1/me. */
export type Me = Principal;
/** One row of the activity log. */
export type Activity = ActivityView;
/** One environment variable of a project (value masked unless revealed). */
export type EnvVar = EnvVarView;
/** A project's database (the password always masked; only the app gets the real one). */
export type Database = DatabaseView;
/** A backup and its manifest. */
export type Backup = BackupView;
/** What verifying a backup found. */
export type BackupCheck = VerifyResult;
/** One of a project's volumes. */
export type Volume = VolumeView;
/** A custom domain of a project: its status, the DNS records to create, the last check and the certificate. */
export type Domain = DomainView;
/** One line of a project's runtime log. */
export type LogLine = LogEntry;
/** Resource use of one container. */
export type Metric = ContainerStats;

/** A TLS certificate the edge serves (never its key). */
export type Certificate = CertificateView;

/** Registry credentials as listed (never the password). */
export type Registry = RegistryView;

/** GET …/deployments/compare. */
export type Comparison = DeploymentComparison;

/** The statuses a deployment ends in. */
export { FINAL_STATUSES } from '../deployments/lifecycle.ts';

/** GET /v1/health. */
export interface Health {
  status: 'ok' | 'degraded';
  version: string;
  uptime_seconds: number;
  database: { ok: boolean };
  docker: { ok: boolean; version: string | null; error: string | null };
}
