import { afterAll, describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFilePath, writeLogin } from '../../src/cli/config-file.ts';
import { resolveCredentials } from '../../src/cli/credentials.ts';
import { apiError, fakeAgent, json, runCli } from './harness.ts';

const home = () => mkdtempSync(join(tmpdir(), 'slipway-home-'));

/** A directory holding data/admin-token, as `npm start` leaves it. */
function withLocalToken(token: string): string {
  const cwd = mkdtempSync(join(tmpdir(), 'slipway-cwd-'));
  mkdirSync(join(cwd, 'data'));
  writeFileSync(join(cwd, 'data', 'admin-token'), `${token}\n`, { mode: 0o600 });
  return cwd;
}

describe('the config file', () => {
  test('lives under XDG_CONFIG_HOME, else ~/.config', () => {
    expect(configFilePath({ HOME: '/home/ada' })).toBe('/home/ada/.config/slipway/config.json');
    expect(configFilePath({ HOME: '/home/ada', XDG_CONFIG_HOME: '/xdg' })).toBe('/xdg/slipway/config.json');
    expect(configFilePath({ HOME: '/home/ada', XDG_CONFIG_HOME: 'relative' })).toBe(
      '/home/ada/.config/slipway/config.json',
    );
  });

  test('is written with mode 0600 in a 0700 directory', () => {
    const env = { HOME: home() };
    const path = writeLogin(env, { url: 'http://a:1', token: 'slw_x' });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(env.HOME, '.config', 'slipway')).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ url: 'http://a:1', token: 'slw_x' });
  });

  test('that is damaged is a usage error naming it', () => {
    const env = { HOME: home() };
    mkdirSync(join(env.HOME, '.config', 'slipway'), { recursive: true });
    writeFileSync(configFilePath(env), '{oops');
    expect(() => resolveCredentials(env, '/')).toThrow(
      `${configFilePath(env)} is not a login saved by slipway: run \`slipway login <url>\` again, or remove it`,
    );
  });
});

describe('which agent and token', () => {
  test('SLIPWAY_URL and SLIPWAY_TOKEN win over the saved login', () => {
    const env = { HOME: home(), SLIPWAY_URL: 'http://env:1/', SLIPWAY_TOKEN: 'slw_env' };
    writeLogin(env, { url: 'http://saved:2', token: 'slw_saved' });
    expect(resolveCredentials(env, '/')).toEqual({ url: 'http://env:1', token: 'slw_env', source: 'SLIPWAY_TOKEN' });
  });

  test('the saved login is used when nothing overrides it', () => {
    const env = { HOME: home() };
    writeLogin(env, { url: 'http://saved:2', token: 'slw_saved' });
    expect(resolveCredentials(env, '/')).toEqual({
      url: 'http://saved:2',
      token: 'slw_saved',
      source: 'slipway login',
    });
  });

  test('the saved token is not sent to another agent named by SLIPWAY_URL', () => {
    const env = { HOME: home(), SLIPWAY_URL: 'http://other:3' };
    writeLogin(env, { url: 'http://saved:2', token: 'slw_saved' });
    expect(() => resolveCredentials(env, '/')).toThrow('No token for the agent at http://other:3');
  });

  test('on the host, the local agent and the readable data/admin-token need no login', () => {
    const cwd = withLocalToken('slw_local');
    expect(resolveCredentials({ HOME: home() }, cwd)).toEqual({
      url: 'http://127.0.0.1:7070',
      token: 'slw_local',
      source: 'data/admin-token',
    });
    expect(resolveCredentials({ HOME: home(), SLIPWAY_API_LISTEN: '0.0.0.0:9999' }, cwd).url).toBe(
      'http://127.0.0.1:9999',
    );
  });

  test('the local admin token is never offered to a remote agent', () => {
    const cwd = withLocalToken('slw_local');
    expect(() => resolveCredentials({ HOME: home(), SLIPWAY_URL: 'https://remote.example.com' }, cwd)).toThrow(
      'No token for the agent at https://remote.example.com',
    );
  });

  test('no token anywhere exits with code 3 and says how to log in', async () => {
    const r = await runCli(['projects', 'list'], { env: { HOME: home() } });
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(
      'slipway: No token for the agent at http://127.0.0.1:7070\n' +
        '  Run `slipway login <url>` (the token of a fresh agent is in <data-dir>/admin-token),\n' +
        '  or set SLIPWAY_URL and SLIPWAY_TOKEN\n',
    );
  });
});

describe('slipway login', () => {
  const agent = fakeAgent({
    'GET /v1/me': (req) =>
      req.headers.get('authorization') === 'Bearer slw_good'
        ? json({ id: 'tok_1', name: 'laptop', scope: 'deploy', projects: ['web', 'api'] })
        : apiError(401, 'unauthorized', 'Unknown or revoked token'),
  });
  afterAll(() => agent.stop());

  test('checks the token against /v1/me and saves both with mode 0600', async () => {
    const env = { HOME: home() };
    const r = await runCli(['login', `${agent.url}/`, '--token', 'slw_good'], { env });
    expect(r).toEqual({
      code: 0,
      stdout: `Logged in to ${agent.url} with token "laptop" (tok_1, scope deploy, projects web, api)\n`,
      stderr: `Saved to ${configFilePath(env)} (mode 0600)\n`,
      asked: [],
    });
    expect(JSON.parse(readFileSync(configFilePath(env), 'utf8'))).toEqual({ url: agent.url, token: 'slw_good' });
    expect(statSync(configFilePath(env)).mode & 0o777).toBe(0o600);
  });

  test('reads the token from stdin when it is not a terminal', async () => {
    const env = { HOME: home() };
    const r = await runCli(['login', agent.url], { env, stdin: 'slw_good\n' });
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(configFilePath(env), 'utf8')).token).toBe('slw_good');
  });

  test('asks for the token, hidden, on a terminal', async () => {
    const env = { HOME: home() };
    const r = await runCli(['login', agent.url], { env, tty: true, answers: ['slw_good'] });
    expect(r.code).toBe(0);
    expect(r.asked).toEqual(['Token (slw_…): ']);
  });

  test('a refused token exits with code 3 and saves nothing', async () => {
    const env = { HOME: home() };
    const r = await runCli(['login', agent.url, '--token', 'slw_bad'], { env });
    expect(r).toEqual({
      code: 3,
      stdout: '',
      stderr:
        'slipway: Unknown or revoked token\n  Log in again with `slipway login <url>`, or check SLIPWAY_TOKEN\n  request id: req_abc123\n',
      asked: [],
    });
    expect(() => statSync(configFilePath(env))).toThrow();
  });

  test('logout removes the saved login', async () => {
    const env = { HOME: home() };
    writeLogin(env, { url: agent.url, token: 'slw_good' });
    expect((await runCli(['logout'], { env })).stdout).toBe(`Removed ${configFilePath(env)}\n`);
    expect((await runCli(['logout'], { env })).stdout).toBe(`Not logged in (no ${configFilePath(env)})\n`);
  });
});
