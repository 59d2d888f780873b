import type Docker from 'dockerode';

/** Resource use of one app container, from Docker's stats API. */
export interface ContainerStats {
  container: string;
  instance: string;
  cpu_percent: number;
  memory_bytes: number;
  memory_limit_bytes: number;
  network_rx_bytes: number;
  network_tx_bytes: number;
  block_read_bytes: number;
  block_write_bytes: number;
  restarts: number;
  uptime_seconds: number;
}

/** One sample of a container's stats (Docker takes two readings a second apart to give CPU %). */
export async function containerStats(docker: Docker, containerId: string, instance: string): Promise<ContainerStats> {
  const c = docker.getContainer(containerId);
  const [s, info] = await Promise.all([c.stats({ stream: false }) as Promise<DockerStats>, c.inspect()]);
  const cpuDelta = (s.cpu_stats?.cpu_usage?.total_usage ?? 0) - (s.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const systemDelta = (s.cpu_stats?.system_cpu_usage ?? 0) - (s.precpu_stats?.system_cpu_usage ?? 0);
  const cpus = s.cpu_stats?.online_cpus ?? s.cpu_stats?.cpu_usage?.percpu_usage?.length ?? 1;
  const cache =
    s.memory_stats?.stats?.inactive_file ??
    s.memory_stats?.stats?.total_inactive_file ??
    s.memory_stats?.stats?.cache ??
    0;
  const networks = Object.values(s.networks ?? {});
  const blk = s.blkio_stats?.io_service_bytes_recursive ?? [];
  const started = Date.parse(info.State.StartedAt);
  return {
    container: containerId.slice(0, 12),
    instance,
    cpu_percent: systemDelta > 0 && cpuDelta > 0 ? round((cpuDelta / systemDelta) * cpus * 100) : 0,
    memory_bytes: Math.max(0, (s.memory_stats?.usage ?? 0) - cache),
    memory_limit_bytes: s.memory_stats?.limit ?? 0,
    network_rx_bytes: networks.reduce((n, x) => n + (x.rx_bytes ?? 0), 0),
    network_tx_bytes: networks.reduce((n, x) => n + (x.tx_bytes ?? 0), 0),
    block_read_bytes: blk.filter((b) => /read/i.test(b.op)).reduce((n, b) => n + b.value, 0),
    block_write_bytes: blk.filter((b) => /write/i.test(b.op)).reduce((n, b) => n + b.value, 0),
    restarts: info.RestartCount ?? 0,
    uptime_seconds:
      info.State.Running && !Number.isNaN(started) ? Math.max(0, Math.floor((Date.now() - started) / 1000)) : 0,
  };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

interface DockerStats {
  cpu_stats?: {
    cpu_usage?: { total_usage?: number; percpu_usage?: number[] };
    system_cpu_usage?: number;
    online_cpus?: number;
  };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }>;
  blkio_stats?: { io_service_bytes_recursive?: { op: string; value: number }[] | null };
}
