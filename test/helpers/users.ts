/**
 * Running a child process as another user, so that a test can show what a process without some
 * permission can and cannot do. Needs root (setpriv changes the uid); as with Docker, tests that
 * need it are skipped locally without root and fail in CI.
 */

/** Uids (each with a gid of the same number) no account on a test host uses. */
export const TEST_UIDS = { api: 40001, edge: 40002, stranger: 40003 } as const;

let checked: boolean | undefined;

/** For `describe.skipIf(!canSwitchUsers())`: true when this process can run children as other users. */
export function canSwitchUsers(): boolean {
  checked ??= (() => {
    const root = process.getuid?.() === 0;
    const setpriv = Bun.spawnSync(['sh', '-c', 'command -v setpriv']).exitCode === 0;
    if (root && setpriv) return true;
    const why = root ? 'setpriv is missing (Debian package util-linux)' : 'the tests do not run as root';
    if (process.env.CI === 'true') throw new Error(`Tests that switch users are required in CI, but ${why}`);
    console.warn(`Skipping the tests that switch users: ${why}`);
    return false;
  })();
  return checked;
}

/**
 * The argv prefix that runs a command as `uid` (primary group `gid`) with exactly the
 * supplementary `groups`, under umask 0077 as the systemd units set it.
 */
export function asUser(uid: number, gid = uid, groups: number[] = []): string[] {
  return [
    'setpriv',
    `--reuid=${uid}`,
    `--regid=${gid}`,
    groups.length > 0 ? `--groups=${groups.join(',')}` : '--clear-groups',
    '--',
    'sh',
    '-c',
    'umask 0077 && exec "$@"',
    'sh',
  ];
}

/** The gid of the docker group, which the API's unit adds as a supplementary group. */
export function dockerGid(): number {
  const line = Bun.spawnSync(['getent', 'group', 'docker']).stdout.toString().trim();
  const gid = Number(line.split(':')[2]);
  if (!line || !Number.isInteger(gid)) throw new Error('There is no docker group on this host');
  return gid;
}
