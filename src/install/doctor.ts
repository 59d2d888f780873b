/**
 * `slipway doctor`: checks that explain, each failure with how to fix it. Probes (Docker, the
 * agent's API and edge) run first; the checks are then plain functions of what they found.
 */
import { formatListen, type ListenAddress } from '../config.ts';
import { edgePage } from '../edge/pages.ts';
import { fail, ok, warn, type Check, type DoctorInput, type Probes } from './check.ts';
import { edgeIsolationCheck } from './edge-checks.ts';
import { clockCheck, dataDirCheck, diskChecks } from './host-checks.ts';
import { dialHost, networkReason } from './ports.ts';
import { describeRuntime, swarmStateOf } from '../runtime/describe.ts';

const PROBE_MS = 3000;

/** Runs every probe and check. */
export async function runDoctor(input: DoctorInput): Promise<Check[]> {
  const probes = await probe(input);
  return [
    ...serviceChecks(input, probes),
    dataDirCheck(input),
    ...(input.installed ? [edgeIsolationCheck(input)] : []),
    ...diskChecks(input, probes),
    clockCheck(input, probes),
    runtimeCheck(input, probes),
  ];
}

async function probe(input: DoctorInput): Promise<Probes> {
  const { config } = input;
  const [docker, api, edge] = await Promise.all([
    within(
      input.docker.info() as Promise<{
        ServerVersion: string;
        SystemTime: string;
        DockerRootDir?: string;
        Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean; Nodes?: number };
      }>,
    ).then(
      (i) => ({
        version: i.ServerVersion,
        time: Date.parse(i.SystemTime),
        rootDir: i.DockerRootDir ?? null,
        swarm: swarmStateOf(i),
      }),
      (err: Error) => ({ error: networkReason(err) }),
    ),
    within(fetch(`http://${address(config.apiListen)}/v1/health`, { signal: AbortSignal.timeout(PROBE_MS) }))
      .then(async (res) => {
        const h = (await res.json().catch(() => null)) as {
          version: string;
          status: string;
          docker?: { error: string | null };
        } | null;
        if (typeof h?.version !== 'string') throw new Error(`another program answers (HTTP ${res.status})`);
        return {
          version: h.version,
          status: h.status,
          dockerError: h.docker?.error ?? null,
          date: Date.parse(res.headers.get('date') ?? '') || null,
        };
      })
      .catch((err: Error) => ({ error: networkReason(err) })),
    within(
      fetch(`http://${address(config.httpListen)}/`, {
        headers: { host: 'slipway-doctor.invalid' },
        signal: AbortSignal.timeout(PROBE_MS),
      }),
    ).then(
      async (res) => ({
        status: res.status,
        slipway: res.status === 404 && (await res.text()) === (await edgePage(404).text()),
      }),
      (err: Error) => ({ error: networkReason(err) }),
    ),
  ]);
  return { docker, api, edge };
}

function serviceChecks(input: DoctorInput, p: Probes): Check[] {
  const { config, installed } = input;
  const start = (unit: string) =>
    installed
      ? `systemctl start ${unit}; see why it stopped with journalctl -u ${unit} -n 50`
      : 'start it: slipway serve';
  const checks: Check[] = [
    'error' in p.docker
      ? fail(
          'Docker engine',
          `not reachable at ${config.dockerHost ?? 'unix:///var/run/docker.sock'}: ${p.docker.error}`,
          'start it (systemctl start docker) or install it (apt-get install docker.io); DOCKER_HOST points Slipway at another engine',
        )
      : ok('Docker engine', `version ${p.docker.version} at ${config.dockerHost ?? 'unix:///var/run/docker.sock'}`),
    'error' in p.api
      ? fail('API', `no Slipway API at http://${address(config.apiListen)}: ${p.api.error}`, start('slipway'))
      : p.api.status === 'ok'
        ? ok('API', `Slipway ${p.api.version} answers at http://${address(config.apiListen)}`)
        : warn(
            'API',
            `Slipway ${p.api.version} answers but is ${p.api.status}: ${p.api.dockerError ?? 'see GET /v1/health'}`,
            'see the Docker engine check',
          ),
    portCheck('API port', config.apiListen, input.listening, !('error' in p.api), 'SLIPWAY_API_LISTEN'),
    portCheck(
      'HTTP port',
      config.httpListen,
      input.listening,
      'slipway' in p.edge && p.edge.slipway,
      'SLIPWAY_HTTP_LISTEN',
    ),
  ];
  if (config.httpsListen && config.httpsListen.port !== 0 && input.listening.has(config.httpsListen.port)) {
    checks.push(
      warn(
        'HTTPS port',
        `${formatListen(config.httpsListen)} is in use by another program`,
        'Slipway cannot serve HTTPS there while it is; stop that program',
      ),
    );
  }
  checks.push(
    'slipway' in p.edge && p.edge.slipway
      ? ok('Edge', `answers at http://${address(config.httpListen)}`)
      : fail(
          'Edge',
          'error' in p.edge
            ? `no Slipway edge at http://${address(config.httpListen)}: ${p.edge.error}`
            : `http://${address(config.httpListen)} is not Slipway's edge (HTTP ${p.edge.status})`,
          start('slipway-edge'),
        ),
  );
  return checks;
}

function portCheck(name: string, listen: ListenAddress, listening: Set<number>, ours: boolean, env: string): Check {
  if (listen.port === 0) return ok(name, 'a random port (0)');
  if (!listening.has(listen.port)) return ok(name, `${formatListen(listen)} is free`);
  if (ours) return ok(name, `${formatListen(listen)} is held by Slipway`);
  return fail(
    name,
    `port ${listen.port} is held by another program`,
    `stop it (\`ss -ltnp 'sport = :${listen.port}'\` shows which), or move Slipway with ${env}`,
  );
}

function address(listen: ListenAddress): string {
  return `${dialHost(listen.hostname)}:${listen.port}`;
}

function within<T>(promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_MS / 1000} s`)), PROBE_MS)),
  );
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Which runtime runs app instances, why, and whether the engine can run it. */
function runtimeCheck(input: DoctorInput, p: Probes): Check {
  const kind = input.config.runtime;
  if ('error' in p.docker) return warn('Runtime', `${kind}; the engine did not answer`, 'see the Docker engine check');
  const r = describeRuntime(kind, p.docker.swarm ?? swarmStateOf({}));
  return r.ok ? ok('Runtime', r.detail) : fail('Runtime', r.detail, r.fix!);
}
