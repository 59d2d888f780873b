/** The doctor's checks of the host itself: the data directory, free disk space and the clock. */
import { accessSync, constants, existsSync, readFileSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fail, ok, warn, type Check, type DoctorInput, type Probes } from './check.ts';
import { SERVICE_USER } from './units.ts';

const GIB = 1024 ** 3;
/** Below this much free space a check fails; below WARN_FREE it warns. */
const MIN_FREE = 1 * GIB;
const WARN_FREE = 5 * GIB;
/** Clock skew that fails the check, in ms (an HTTP Date header has whole seconds). */
const MAX_SKEW_MS = 5000;
const DATE_HEADER = "the agent's Date header";

/** The data directory exists and is writable by whoever runs Slipway (the slipway user once installed). */
export function dataDirCheck(input: DoctorInput, passwd = '/etc/passwd'): Check {
  const dir = resolve(input.config.dataDir);
  if (!existsSync(dir)) {
    const parent = nearestExisting(dir);
    return writable(parent)
      ? ok('Data directory', `${dir} does not exist yet; it is created on first start`)
      : fail(
          'Data directory',
          `${dir} does not exist and ${parent} is not writable`,
          `create it: mkdir -p ${dir}, or choose another with SLIPWAY_DATA_DIR`,
        );
  }
  if (input.installed) {
    const uid = uidOf(SERVICE_USER, passwd);
    if (uid !== null && statSync(dir).uid !== uid) {
      return fail(
        'Data directory',
        `${dir} is not owned by the ${SERVICE_USER} user the API runs as`,
        'run `slipway install` again as root: it sets the owners of the data directory and what the edge may use in it',
      );
    }
  }
  return writable(dir)
    ? ok('Data directory', `${dir} is writable`)
    : fail('Data directory', `${dir} is not writable by this user`, `run Slipway as its owner, or chown it`);
}

/** Free space where the data directory and Docker's images live. */
export function diskChecks(input: DoctorInput, probes: Probes): Check[] {
  const paths = [['Disk space (data)', nearestExisting(resolve(input.config.dataDir))]];
  const local = input.config.dockerHost === null || input.config.dockerHost.startsWith('unix:');
  if (local && !('error' in probes.docker) && probes.docker.rootDir && existsSync(probes.docker.rootDir))
    paths.push(['Disk space (Docker)', probes.docker.rootDir]);
  return paths.map(([name, path]) => {
    const fs = statfsSync(path!);
    const free = fs.bavail * fs.bsize;
    const detail = `${(free / GIB).toFixed(1)} GiB free of ${((fs.blocks * fs.bsize) / GIB).toFixed(1)} GiB on ${path}`;
    const fix =
      'free space: `docker image prune` removes unused images, and fewer releases are kept with a lower SLIPWAY_RELEASE_RETENTION';
    if (free < MIN_FREE) return fail(name!, detail, fix);
    if (free < WARN_FREE) return warn(name!, detail, fix);
    return ok(name!, detail);
  });
}

/** This host's clock against the Docker engine's and the agent's (its HTTP Date header); no internet needed. */
export function clockCheck(input: DoctorInput, probes: Probes): Check {
  const now = input.now();
  const refs: [string, number][] = [];
  if (!('error' in probes.docker) && Number.isFinite(probes.docker.time))
    refs.push(['the Docker engine', probes.docker.time]);
  if (!('error' in probes.api) && probes.api.date !== null) refs.push([DATE_HEADER, probes.api.date]);
  if (refs.length === 0)
    return warn('Clock', 'nothing to compare it with: neither Docker nor the agent answered', 'fix those first');
  const worst = refs.reduce((a, b) => (Math.abs(b[1] - now) > Math.abs(a[1] - now) ? b : a));
  // A Date header has whole seconds: up to a second of the difference is its rounding.
  const skew = Math.max(0, Math.abs(worst[1] - now) - (worst[0] === DATE_HEADER ? 1000 : 0));
  const detail = `${(skew / 1000).toFixed(1)} s from ${worst[0]} (${new Date(now).toISOString()})`;
  return skew > MAX_SKEW_MS
    ? fail('Clock', detail, 'synchronise the clocks: timedatectl set-ntp true (systemd-timesyncd), or install chrony')
    : ok('Clock', detail);
}

function nearestExisting(path: string): string {
  let p = path;
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  return p;
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    const probe = join(dir, `.slipway-doctor-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
    return true;
  } catch {
    return false;
  }
}

function uidOf(user: string, passwd: string): number | null {
  try {
    const line = readFileSync(passwd, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${user}:`));
    return line ? Number(line.split(':')[2]) : null;
  } catch {
    return null;
  }
}
