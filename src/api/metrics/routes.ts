import { Elysia, t } from 'elysia';
import type { DeploymentRepo } from '../../db/deployments.ts';
import type { ObserveService } from '../../observe/service.ts';
import { renderPrometheus } from '../../observe/prometheus.ts';
import type { EdgeStatsSnapshot } from '../../edge/stats.ts';
import type { CertificateService } from '../../certificates/service.ts';
import { accessPlugin } from '../access.ts';
import { AUTH_ERRORS, errors } from '../schemas.ts';

/** GET /metrics: the agent, the edge and every live container in Prometheus text format (admin). */
export function metricsRoutes(d: {
  deploymentRepo: DeploymentRepo;
  observe: ObserveService;
  startedAt: number;
  edgeStats: () => EdgeStatsSnapshot | null;
  certificates: Pick<CertificateService, 'metrics'>;
  backups?: { prometheus(): string };
}) {
  return new Elysia().use(accessPlugin).get(
    '/metrics',
    async () => {
      const byStatus = d.deploymentRepo.countByStatus();
      const text = renderPrometheus({
        uptimeSeconds: Math.floor((Date.now() - d.startedAt) / 1000),
        queueDepth: byStatus.queued ?? 0,
        deploymentsByStatus: byStatus,
        buildDurationsSeconds: d.deploymentRepo.buildDurations().map((ms) => ms / 1000),
        edge: d.edgeStats(),
        containers: await d.observe.allMetrics(),
        certificates: d.certificates.metrics(),
      });
      return new Response(text + (d.backups?.prometheus() ?? ''), {
        headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' },
      });
    },
    {
      access: { scope: 'admin' },
      detail: {
        summary: 'Prometheus metrics',
        description: 'Agent, edge, container and certificate gauges in the text exposition format.',
        tags: ['Observe'],
      },
      response: { 200: t.String({ description: 'text/plain; version=0.0.4' }), ...errors(...AUTH_ERRORS) },
    },
  );
}
