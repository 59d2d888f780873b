/**
 * nginx as the reference reverse proxy of the differential tests: one process (master_process
 * off), proxying every request to one upstream over HTTP/1.1 with keep-alive, setting the Host and
 * forwarded headers the way Slipway's edge does. scripts/ensure-nginx.sh installs it.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onCleanup } from './helpers.ts';

/** Where nginx is, or null when it is not installed. */
function nginxBinary(): string | null {
  const found = Bun.which('nginx') ?? (existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : null);
  return found;
}

/** A free port on 127.0.0.1 (bound then released). */
function freePort(): number {
  const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

function config(dir: string, port: number, upstream: string): string {
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((n) => `${n}_temp_path ${dir}/${n};`);
  return `master_process off;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  ${temp.join('\n  ')}
  upstream app { server ${upstream}; keepalive 16; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $http_host;
    }
  }
}
`;
}

/** Starts nginx proxying to `upstream` ("127.0.0.1:PORT"); resolves with its port once it accepts connections. */
export async function startNginx(upstream: string): Promise<number> {
  const binary = nginxBinary();
  if (!binary) throw new Error('nginx is not installed: run scripts/ensure-nginx.sh (as root)');
  const dir = mkdtempSync(join(tmpdir(), 'slipway-nginx-'));
  for (const n of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, n));
  const port = freePort();
  writeFileSync(join(dir, 'nginx.conf'), config(dir, port, upstream));
  const child = spawn(binary, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  onCleanup(() => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const deadline = Date.now() + 5000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`nginx did not start: ${stderr}`);
    await Bun.sleep(10);
  }
  return port;
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function accepts(port: number): Promise<boolean> {
  const socket = { data() {}, error() {} };
  return Bun.connect({ hostname: '127.0.0.1', port, socket }).then(
    (s) => {
      s.end();
      return true;
    },
    () => false,
  );
}
