/**
 * The doctor's check that the installed edge is kept to its two stores: the owners and modes
 * `slipway install` gives the data directory, and no group or other access to the database and
 * the secrets. It reads what is on disk; it changes nothing.
 */
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ROUTE_STORE_DIR, EDGE_STATE_DIR } from '../edge/layout.ts';
import { fail, ok, type Check, type DoctorInput } from './check.ts';
import { accountIds } from './facts.ts';
import { EDGE_USER, SERVICE_USER } from './units.ts';

const NAME = 'Edge isolation';
const REINSTALL = 'run `slipway install` again as root: it creates the users and sets these owners and modes';
/** Only the slipway user may read these; the edge must not. */
const PRIVATE = ['slipway.db', 'slipway.db-wal', 'slipway.db-shm', 'master.key', 'admin-token'];

/** Once installed: the edge's user can read the route store and write its state, and nothing else. */
export function edgeIsolationCheck(input: DoctorInput, passwd = '/etc/passwd', group = '/etc/group'): Check {
  const dir = resolve(input.config.dataDir);
  const [users, groups] = [accountIds(passwd), accountIds(group)];
  if (!users.has(EDGE_USER) || !groups.has(SERVICE_USER) || !groups.has(EDGE_USER))
    return fail(NAME, `there is no ${EDGE_USER} user and group for the edge to run as`, REINSTALL);
  const expected: [string, string, string, number][] = [
    ['', SERVICE_USER, EDGE_USER, 0o710],
    [ROUTE_STORE_DIR, SERVICE_USER, EDGE_USER, 0o2750],
    [`${ROUTE_STORE_DIR}/routes.db`, SERVICE_USER, EDGE_USER, 0o640],
    [EDGE_STATE_DIR, EDGE_USER, SERVICE_USER, 0o2750],
  ];
  for (const [path, owner, ownerGroup, mode] of expected) {
    const s = stat(join(dir, path));
    if (!s) continue; // made on first start
    if (s.uid === users.get(owner) && s.gid === groups.get(ownerGroup) && (s.mode & 0o7777) === mode) continue;
    const have = `${nameOf(users, s.uid)}:${nameOf(groups, s.gid)} ${octal(s.mode & 0o7777)}`;
    return fail(NAME, `${join(dir, path)} is ${have}, not ${owner}:${ownerGroup} ${octal(mode)}`, REINSTALL);
  }
  for (const file of PRIVATE) {
    const s = stat(join(dir, file));
    if (s && (s.mode & 0o077) !== 0)
      return fail(
        NAME,
        `${join(dir, file)} is mode ${octal(s.mode & 0o777)}: users other than ${SERVICE_USER} may read it`,
        `chmod 600 ${join(dir, file)}`,
      );
  }
  return ok(
    NAME,
    `the ${EDGE_USER} user may read ${join(dir, ROUTE_STORE_DIR)} and write ${join(dir, EDGE_STATE_DIR)}, nothing else`,
  );
}

function stat(path: string) {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

function nameOf(ids: Map<string, number>, id: number): string {
  for (const [name, n] of ids) if (n === id) return name;
  return String(id);
}

function octal(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}
