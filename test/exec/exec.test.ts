/**
 * Exec against a real agent and engine: a static site whose image runs as uid 4321, and sessions
 * opened the way the CLI opens them (Bun's WebSocket with a bearer header).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { retireAgent, startAgent, waitForStatus, type Agent } from '../helpers/agent.ts';
import { tgzOf } from '../helpers/archives.ts';
import { requireDocker } from '../helpers/docker.ts';
import { closeAll } from '../edge/helpers.ts';
import { startTlsEdge, testCa } from '../edge/tls-helpers.ts';
import { execUrl, openExec, runExec } from './session.ts';
import { wssFrames } from './tls-session.ts';

const P = `exec-${crypto.randomUUID().slice(0, 6)}`;
const OTHER = `${P}-b`;
const hasDocker = await requireDocker();
let agent: Agent;
let auth: Record<string, string>;

const DOCKERFILE = `FROM slipway-fixture/static:latest
COPY index.html /www/index.html
USER 4321:4321
EXPOSE 8080
CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]
`;

async function mint(scope: string, projects?: string[]): Promise<Record<string, string>> {
  const res = await agent.call('POST', '/v1/tokens', {
    name: `t-${scope}-${projects?.join('-') ?? 'all'}`,
    scope,
    projects,
  });
  expect(res.status).toBe(201);
  return { authorization: `Bearer ${((await res.json()) as { token: string }).token}` };
}

/** A handshake sent as a plain request, so the refusal's status and envelope can be read. */
async function handshake(url: string, headers: Record<string, string>): Promise<Response> {
  return fetch(url.replace(/^ws/, 'http'), {
    headers: {
      connection: 'Upgrade',
      upgrade: 'websocket',
      'sec-websocket-version': '13',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      ...headers,
    },
  });
}

beforeAll(async () => {
  if (!hasDocker) return;
  agent = await startAgent({ env: { SLIPWAY_EXEC_MAX_SESSIONS: '2', SLIPWAY_EXEC_IDLE_TIMEOUT: '3' } });
  auth = { authorization: `Bearer ${agent.token}` };
  for (const name of [P, OTHER]) expect((await agent.call('POST', '/v1/projects', { name })).status).toBe(201);
  const source = tgzOf([
    { name: 'Dockerfile', body: DOCKERFILE },
    { name: 'index.html', body: 'hello' },
  ]);
  const res = await agent.call('POST', `/v1/projects/${P}/deployments`, new Uint8Array(source), {
    'content-type': 'application/gzip',
  });
  const { id } = (await res.json()) as { id: string };
  const dep = await waitForStatus(agent, P, id, ['live', 'failed']);
  expect({ status: dep.status, reason: dep.failure_reason }).toEqual({ status: 'live', reason: null });
}, 120_000);
afterAll(async () => {
  if (hasDocker) await retireAgent(agent, [P, OTHER]);
});

describe.skipIf(!hasDocker)('exec in a live instance', () => {
  test("runs the command as the container's user, with its isolation, and reports exit code 0", async () => {
    const r = await runExec(
      execUrl(agent.api, P, ['sh', '-c', 'id -u; grep -E "^(CapEff|NoNewPrivs)" /proc/self/status']),
      auth,
    );
    expect(r.controls[0]).toMatchObject({ type: 'started', tty: false });
    expect(r.stdout).toBe('4321\nCapEff:\t0000000000000000\nNoNewPrivs:\t1\n');
    expect(r.exit).toBe(0);
    expect(r.close.code).toBe(1000);
  });

  test('passes the exit code and keeps stderr apart from stdout', async () => {
    const r = await runExec(execUrl(agent.api, P, ['sh', '-c', 'echo out; echo err >&2; exit 7']), auth);
    expect({ out: r.stdout, err: r.stderr, exit: r.exit }).toEqual({ out: 'out\n', err: 'err\n', exit: 7 });
  });

  test('hands arguments over as they are: no shell reads them, commas included', async () => {
    const r = await runExec(execUrl(agent.api, P, ['echo', '$(id -u); a,b', '`reboot`']), auth);
    expect(r.stdout).toBe('$(id -u); a,b `reboot`\n');
  });

  test('pipes binary stdin through and closes it on stdin_eof', async () => {
    const r = await runExec(execUrl(agent.api, P, ['wc', '-c']), auth, 'x'.repeat(100_000));
    expect(r.stdout.trim()).toBe('100000');
    expect(r.exit).toBe(0);
  });

  test('runs an interactive shell on a TTY that follows resizes', async () => {
    const s = openExec(execUrl(agent.api, P, ['sh'], { tty: 'true', cols: '90', rows: '20' }), auth);
    s.type('echo $((6*7))\n');
    await s.waitFor('42');
    s.type('stty size\n');
    await s.waitFor('20 90');
    s.send(JSON.stringify({ type: 'resize', cols: 132, rows: 43 }));
    await Bun.sleep(200);
    s.type('stty size\n');
    await s.waitFor('43 132');
    s.type('exit 5\n');
    expect((await s.closed).code).toBe(1000);
    expect(s.controls.at(-1)).toEqual({ type: 'exit', code: 5 });
  });

  test('ends a session after the idle timeout', async () => {
    const started = Date.now();
    const r = await runExec(execUrl(agent.api, P, ['sleep', '60']), auth);
    expect(r.close.code).toBe(4408);
    expect(r.controls.at(-1)).toMatchObject({ type: 'error', code: 'idle_timeout' });
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  test('caps the sessions a token holds open, and frees the slot when one closes', async () => {
    const a = openExec(execUrl(agent.api, P, ['sh'], { tty: 'true' }), auth);
    const b = openExec(execUrl(agent.api, P, ['sh'], { tty: 'true' }), auth);
    a.type('echo A-$((1+1))\n');
    b.type('echo B-$((1+1))\n');
    await a.waitFor('A-2');
    await b.waitFor('B-2');
    const third = await handshake(execUrl(agent.api, P, ['true']), auth);
    expect(third.status).toBe(429);
    expect(((await third.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
    a.ws.close();
    await a.closed;
    await Bun.sleep(100);
    const r = await runExec(execUrl(agent.api, P, ['echo', 'again']), auth);
    expect(r.stdout).toBe('again\n');
    b.ws.close();
  });

  test('records the command in the activity log', async () => {
    await runExec(execUrl(agent.api, P, ['echo', 'audited']), auth);
    const res = await agent.call('GET', `/v1/activity?project=${P}&action=project.exec`);
    const { data } = (await res.json()) as { data: { changes: { command: string[]; tty: boolean } }[] };
    expect(data[0]!.changes).toMatchObject({ command: ['echo', 'audited'], tty: false });
  });
});

describe.skipIf(!hasDocker)('who may open an exec session', () => {
  const expectRefused = async (res: Response, status: number, code: string) => {
    expect(res.status).toBe(status);
    const body = (await res.json()) as { error: { code: string; message: string; request_id: string } };
    expect(body.error.code).toBe(code);
    expect(body.error.request_id).toStartWith('req_');
    return body.error.message;
  };

  test('refuses read and deploy tokens', async () => {
    for (const scope of ['read', 'deploy'])
      await expectRefused(await handshake(execUrl(agent.api, P, ['id']), await mint(scope)), 403, 'forbidden');
  });

  test('refuses no token at all', async () => {
    await expectRefused(await handshake(execUrl(agent.api, P, ['id']), {}), 401, 'unauthorized');
  });

  test('lets a project-limited admin token into its projects only', async () => {
    const limited = await mint('admin', [OTHER]);
    const msg = await expectRefused(await handshake(execUrl(agent.api, P, ['id']), limited), 403, 'forbidden');
    expect(msg).toContain(`may not access project "${P}"`);
    const own = await mint('admin', [P]);
    expect((await runExec(execUrl(agent.api, P, ['echo', 'mine']), own)).stdout).toBe('mine\n');
  });

  test("refuses a handshake from another site's page, and accepts the API's own origin", async () => {
    const url = execUrl(agent.api, P, ['echo', 'same-origin']);
    const msg = await expectRefused(
      await handshake(url, { ...auth, origin: 'https://evil.example' }),
      403,
      'forbidden',
    );
    expect(msg).toBe('Cannot open an exec session from the web page at "https://evil.example"');
    expect((await runExec(url, { ...auth, origin: agent.api })).stdout).toBe('same-origin\n');
  });

  test('answers 409 for a project without a live release, 404 for an unknown one or instance', async () => {
    await expectRefused(await handshake(execUrl(agent.api, OTHER, ['id']), auth), 409, 'conflict');
    await expectRefused(await handshake(execUrl(agent.api, 'nope', ['id']), auth), 404, 'not_found');
    await expectRefused(
      await handshake(execUrl(agent.api, P, ['id'], { instance: '9-deadbeef' }), auth),
      404,
      'not_found',
    );
  });

  test('refuses a NUL in an argument and a plain request that is not a handshake', async () => {
    await expectRefused(await handshake(execUrl(agent.api, P, ['echo', 'a\0b']), auth), 422, 'validation_error');
    const plain = await fetch(execUrl(agent.api, P, ['id']).replace(/^ws/, 'http'), { headers: auth });
    expect(await expectRefused(plain, 400, 'bad_request')).toBe('Expected a WebSocket handshake (Upgrade: websocket)');
  });

  test('closes a session that sends a malformed control message', async () => {
    const s = openExec(execUrl(agent.api, P, ['sh'], { tty: 'true' }), auth);
    s.send('{"type":"reboot"}');
    expect((await s.closed).code).toBe(4400);
    expect(s.controls.at(-1)).toMatchObject({ type: 'error', code: 'bad_message' });
  });
});

describe.skipIf(!hasDocker)('slipway exec', () => {
  const MAIN = new URL('../../src/main.ts', import.meta.url).pathname;
  const cli = async (args: string[], stdin: string | null, env: Record<string, string> = {}) => {
    const proc = Bun.spawn([process.execPath, MAIN, 'exec', ...args], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: '/nonexistent',
        SLIPWAY_URL: agent.api,
        SLIPWAY_TOKEN: agent.token,
        ...env,
      },
      stdin: stdin === null ? 'ignore' : new TextEncoder().encode(stdin),
      stdout: 'pipe',
      stderr: 'pipe',
    });
    const [stdout, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    return { stdout, stderr, code };
  };

  test("prints stdout and stderr apart and exits with the command's code", async () => {
    const r = await cli(['-p', P, '--', 'sh', '-c', 'echo "a, b"; echo oops >&2; exit 3'], null);
    expect(r).toEqual({ stdout: 'a, b\n', stderr: 'oops\n', code: 3 });
  });

  test('pipes stdin through when it is not a terminal', async () => {
    const r = await cli(['-p', P, '--', 'tr', 'a-z', 'A-Z'], 'piped input\n');
    expect(r).toEqual({ stdout: 'PIPED INPUT\n', stderr: '', code: 0 });
  });

  test('on a terminal, runs a TTY session in raw mode with the window size and the exit code', async () => {
    // script(1) gives the CLI a pseudo-terminal of 33 rows and 111 columns; what is typed reaches the remote shell.
    const command = `stty rows 33 cols 111; exec ${process.execPath} ${MAIN} exec -p ${P} -- sh`;
    const proc = Bun.spawn(['script', '-qefc', command, '/dev/null'], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: '/nonexistent',
        SLIPWAY_URL: agent.api,
        SLIPWAY_TOKEN: agent.token,
      },
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
    });
    let out = '';
    void (async () => {
      for await (const chunk of proc.stdout.pipeThrough(new TextDecoderStream())) out += chunk;
    })();
    const until = async (text: string) => {
      const deadline = Date.now() + 20_000;
      while (!out.includes(text)) {
        if (Date.now() > deadline) throw new Error(`no ${JSON.stringify(text)} in ${JSON.stringify(out)}`);
        await Bun.sleep(20);
      }
    };
    await until('$ ');
    proc.stdin.write('stty size; tty; echo T-$((40+2))\r');
    await until('T-42');
    expect(out).toContain('33 111');
    expect(out).toMatch(/\/dev\/pts\/\d+/);
    // Raw mode: Ctrl-C is a byte for the remote shell, not a SIGINT that would end the CLI.
    proc.stdin.write('sleep 30\r');
    await Bun.sleep(300);
    proc.stdin.write('\x03');
    proc.stdin.write('echo after-$((1+1))\r');
    await until('after-2');
    proc.stdin.write('exit 6\r');
    proc.stdin.end();
    expect(await proc.exited).toBe(6);
  });

  test("says why the agent refused, with the API's message and exit code 3 for a read token", async () => {
    const reader = (await mint('read')).authorization!.replace('Bearer ', '');
    const r = await cli(['-p', P, '--', 'id'], null, { SLIPWAY_TOKEN: reader });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('has scope "read"; this needs "admin"');
    const none = await cli(['-p', OTHER, '--', 'id'], null);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`Cannot exec in "${OTHER}": no instance of a live release is running`);
  });
});

describe.skipIf(!hasDocker)('exec through the edge at SLIPWAY_API_DOMAIN', () => {
  afterAll(closeAll);

  test('the edge passes the WebSocket upgrade over HTTPS to the API, and the session runs', async () => {
    const API = 'slipway.example.test';
    const ca = testCa();
    const { httpsPort } = startTlsEdge(
      { routes: [], certificates: [ca.issue([API])], challenges: [] },
      { api: { domain: API, address: agent.api.replace('http://', '') } },
    );
    const path = `/v1/projects/${P}/exec?cmd=echo&cmd=via-edge`;
    const { head, frames } = await wssFrames(httpsPort, API, ca.caPem, path, agent.token);
    expect(head).toStartWith('HTTP/1.1 101');
    expect(frames.filter((f) => f.opcode === 1).map((f) => JSON.parse(f.payload.toString()).type)).toEqual([
      'started',
      'exit',
    ]);
    const stdout = frames.filter((f) => f.opcode === 2).map((f) => f.payload.subarray(1).toString());
    expect(stdout.join('')).toBe('via-edge\n');
    expect(frames.at(-1)!.opcode).toBe(8);
  });
});
