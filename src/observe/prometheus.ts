import type { EdgeStatsSnapshot } from '../edge/stats.ts';
import type { ContainerStats } from './container-stats.ts';

/** Everything /metrics shows, gathered by the caller. */
export interface MetricsInput {
  uptimeSeconds: number;
  queueDepth: number;
  deploymentsByStatus: Record<string, number>;
  buildDurationsSeconds: number[];
  edge: EdgeStatsSnapshot | null;
  containers: { project: string; stats: ContainerStats }[];
  certificates: CertificateMetric[];
}

/** One certificate's expiry and renewal state. */
export interface CertificateMetric {
  hostname: string;
  source: 'acme' | 'uploaded';
  notAfter: string;
  /** Whole days left; under `expiryWarningDays` the certificate is flagged. */
  daysLeft: number;
  expiryWarningDays: number;
  renewFailures: number;
  /** When the last renewal failure was recorded (the row's update time), or null. */
  lastRenewFailureAt: string | null;
}

const BUILD_BUCKETS = [5, 10, 30, 60, 120, 300, 600, 900];

/** Renders the Prometheus text exposition format (version 0.0.4). */
export function renderPrometheus(m: MetricsInput): string {
  const out: string[] = [];
  const metric = (name: string, type: string, help: string, samples: [Record<string, string>, number][]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) out.push(`${name}${labelText(labels)} ${formatValue(value)}`);
  };
  metric('slipway_uptime_seconds', 'gauge', 'Seconds since this agent started.', [[{}, m.uptimeSeconds]]);
  metric('slipway_queue_depth', 'gauge', 'Deployments waiting to run.', [[{}, m.queueDepth]]);
  metric(
    'slipway_deployments',
    'gauge',
    'Deployments by status.',
    Object.entries(m.deploymentsByStatus).map(([status, n]) => [{ status }, n]),
  );
  histogram(out, 'slipway_build_duration_seconds', 'Duration of image builds.', [
    [{}, cumulative(m.buildDurationsSeconds, BUILD_BUCKETS)],
  ]);

  metric(
    'slipway_edge_requests_total',
    'counter',
    'Requests through the edge by project and status class.',
    (m.edge?.requests ?? []).map((r) => [{ project: r.project || 'unrouted', status: r.statusClass }, r.count]),
  );
  histogram(
    out,
    'slipway_edge_request_duration_seconds',
    'Edge time to upstream response headers.',
    (m.edge?.latency ?? []).map((h) => [
      { project: h.project || 'unrouted' },
      {
        buckets: h.buckets.map((b) => ({
          le: b.le === null || b.le === Infinity ? Infinity : b.le / 1000,
          count: b.count,
        })),
        count: h.count,
        sum: h.sumMs / 1000,
      },
    ]),
  );

  const c = (pick: (s: ContainerStats) => number) =>
    m.containers.map(
      ({ project, stats }) => [{ project, instance: stats.instance }, pick(stats)] as [Record<string, string>, number],
    );
  metric(
    'slipway_container_cpu_percent',
    'gauge',
    'CPU use of an app instance, percent of one core.',
    c((s) => s.cpu_percent),
  );
  metric(
    'slipway_container_memory_bytes',
    'gauge',
    'Memory used by an app instance.',
    c((s) => s.memory_bytes),
  );
  metric(
    'slipway_container_memory_limit_bytes',
    'gauge',
    'Memory limit of an app instance.',
    c((s) => s.memory_limit_bytes),
  );
  metric(
    'slipway_container_network_receive_bytes',
    'gauge',
    'Bytes an app instance received.',
    c((s) => s.network_rx_bytes),
  );
  metric(
    'slipway_container_network_transmit_bytes',
    'gauge',
    'Bytes an app instance sent.',
    c((s) => s.network_tx_bytes),
  );
  metric(
    'slipway_container_restarts',
    'gauge',
    'Times Docker restarted an app instance.',
    c((s) => s.restarts),
  );
  metric(
    'slipway_container_uptime_seconds',
    'gauge',
    'Seconds since an app instance started.',
    c((s) => s.uptime_seconds),
  );
  certificateMetrics(metric, m.certificates);
  return `${out.join('\n')}\n`;
}

type MetricWriter = (name: string, type: string, help: string, samples: [Record<string, string>, number][]) => void;

function certificateMetrics(metric: MetricWriter, certificates: CertificateMetric[]): void {
  const ofEach = (pick: (c: CertificateMetric) => number | null) =>
    certificates.flatMap((c) => {
      const value = pick(c);
      return value === null
        ? []
        : [[{ hostname: c.hostname, source: c.source }, value] as [Record<string, string>, number]];
    });
  metric(
    'slipway_certificate_not_after_seconds',
    'gauge',
    'When a certificate the edge serves expires, in Unix seconds.',
    ofEach((c) => Math.floor(Date.parse(c.notAfter) / 1000)),
  );
  metric(
    'slipway_certificate_expiring',
    'gauge',
    'Set to 1 while a certificate has less than 14 days left (an uploaded one is never renewed; an ordered one is failing to renew).',
    ofEach((c) => (c.daysLeft < c.expiryWarningDays ? 1 : 0)),
  );
  metric(
    'slipway_certificate_renewal_failures',
    'gauge',
    'Renewals of an ordered certificate that failed in a row (0 after a success).',
    ofEach((c) => (c.source === 'acme' ? c.renewFailures : null)),
  );
  metric(
    'slipway_certificate_last_renewal_failure_seconds',
    'gauge',
    'When the last renewal of a certificate failed, in Unix seconds (only while it keeps failing).',
    ofEach((c) => (c.lastRenewFailureAt ? Math.floor(Date.parse(c.lastRenewFailureAt) / 1000) : null)),
  );
}

interface Histogram {
  buckets: { le: number; count: number }[];
  count: number;
  sum: number;
}

function histogram(out: string[], name: string, help: string, series: [Record<string, string>, Histogram][]): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
  for (const [labels, h] of series) {
    for (const b of h.buckets)
      out.push(`${name}_bucket${labelText({ ...labels, le: b.le === Infinity ? '+Inf' : String(b.le) })} ${b.count}`);
    out.push(`${name}_sum${labelText(labels)} ${formatValue(h.sum)}`, `${name}_count${labelText(labels)} ${h.count}`);
  }
}

function cumulative(values: number[], bounds: number[]): Histogram {
  const buckets = [...bounds, Infinity].map((le) => ({ le, count: values.filter((v) => v <= le).length }));
  return { buckets, count: values.length, sum: values.reduce((a, b) => a + b, 0) };
}

function labelText(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(
    ([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`,
  );
  return parts.length ? `{${parts.join(',')}}` : '';
}

function formatValue(n: number): string {
  return Number.isFinite(n) ? String(n) : n > 0 ? '+Inf' : 'NaN';
}
