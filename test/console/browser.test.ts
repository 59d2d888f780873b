/**
 * The console end to end: headless Chromium (Debian's, scripts/ensure-chromium.sh) driven by
 * playwright-core, against a real agent and Docker engine. One browser and one agent for the file.
 * Screenshots of the main pages land in test-results/console/ (gitignored).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { retireAgent, startAgent, waitForStatus, type Agent } from '../helpers/agent.ts';
import { requireDocker } from '../helpers/docker.ts';
import { tgzOf } from '../helpers/archives.ts';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = resolve(import.meta.dir, '../../test-results/console');
const P = `cons-${crypto.randomUUID().slice(0, 6)}`;
const LIVE_TIMEOUT = 90_000;

const hasDocker = await requireDocker();
let agent: Agent;
let browser: Browser;
let edgePort = 0;
/** A webhook receiver on loopback: what it was sent, by event id. */
const received: { id: string; type: string }[] = [];
const receiver = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  async fetch(req) {
    received.push((await req.json()) as { id: string; type: string });
    return new Response('ok');
  },
});

/** A free loopback port for the edge, so the console can link to the app through it. */
async function freePort(): Promise<number> {
  const server = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

beforeAll(async () => {
  if (!hasDocker) return;
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/ensure-chromium.sh`);
  mkdirSync(SHOTS, { recursive: true });
  edgePort = await freePort();
  [agent, browser] = await Promise.all([
    startAgent({ httpPort: edgePort, env: { SLIPWAY_WEBHOOK_ALLOW_PRIVATE: 'true' } }),
    chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] }),
  ]);
  const volumes = [{ name: 'data', mount_path: '/data' }];
  expect((await agent.call('POST', '/v1/projects', { name: P, volumes })).status).toBe(201);
});
afterAll(async () => {
  if (!hasDocker) return;
  receiver.stop(true);
  await browser?.close();
  await retireAgent(agent, [P]);
});

const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

/** Signs in on the console's form with `token`, by keyboard alone. */
async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(`${agent.api}/console`);
  await page.getByLabel('API token').waitFor();
  await page.keyboard.press('Tab');
  expect(await page.evaluate('document.activeElement.id')).toBe('token');
  // Keyboard focus is always visible.
  expect(await page.evaluate('getComputedStyle(document.activeElement).outlineStyle')).toBe('solid');
  await page.keyboard.type(token);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Projects' }).waitFor();
}

/** Waits until the deployment log page shows a final status, which must be `status` (else the log says why). */
async function waitForLogStatus(page: Page, status: string): Promise<void> {
  const final = page.locator('.log-status .badge', { hasText: /^(live|failed|canceled|replaced)$/ });
  await final.waitFor({ timeout: LIVE_TIMEOUT });
  const shown = await final.textContent();
  if (shown !== status)
    throw new Error(`deployment ended ${shown}, not ${status}:\n${await page.locator('pre.log').textContent()}`);
}

describe.skipIf(!hasDocker)('the console in a browser', () => {
  let page: Page;

  test('signs in with a token into an HttpOnly, SameSite=Strict session and lists the projects', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
    page = await context.newPage();
    await signIn(page, agent.token);
    expect(await page.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgb(255, 255, 255)');
    const cookies = await context.cookies();
    expect(cookies.map((c) => [c.name, c.httpOnly, c.sameSite, c.secure])).toEqual([
      ['slipway_session', true, 'Strict', false],
    ]);
    await page.getByRole('link', { name: P }).waitFor();
    expect(await page.locator('table.projects tbody tr').count()).toBe(1);
  });

  test('deploys an archive dropped on the page, shows upload progress and follows the log until live', async () => {
    await page.getByRole('link', { name: P }).click();
    await page.getByTestId('deploy-drop').waitFor();
    const archive = tgzOf([{ name: 'index.html', body: '<h1>hello from the console</h1>' }]).toString('base64');
    // A drop as a person's: a DataTransfer holding the file, dispatched on the page (run in the browser).
    const dataTransfer = await page.evaluateHandle(`(() => {
      const bytes = Uint8Array.from(atob('${archive}'), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], 'site.tar.gz', { type: 'application/gzip' }));
      return dt;
    })()`);
    // The progress bar may show only for a moment with so small an archive: watch for it.
    await page.evaluate(`new MutationObserver(() => {
      if (document.getElementById('upload-progress')) window.sawProgress = true;
    }).observe(document.body, { childList: true, subtree: true })`);
    await page.dispatchEvent('[data-testid=deploy-drop]', 'drop', { dataTransfer });
    await page.waitForURL(/\/deployments\/dep_[0-9a-z]+$/);
    expect(await page.evaluate('window.sawProgress === true')).toBe(true);
    await waitForLogStatus(page, 'live');
    expect(await page.locator('pre.log').textContent()).toContain('live');
    await shot(page, 'deployment-log');
  });

  test('links to the app, which answers through the edge', async () => {
    const href = await page.getByRole('link', { name: 'Open app' }).getAttribute('href');
    expect(href).toBe(`http://${P}.localhost:${edgePort}/`);
    const app = await page.context().newPage();
    await app.goto(href!);
    expect(await app.locator('h1').textContent()).toBe('hello from the console');
    await app.close();
  });

  test('sets an env var, masked, and follows the rollout it starts to live', async () => {
    await page.getByRole('link', { name: 'Env' }).click();
    await page.getByLabel('Key').fill('GREETING');
    await page.getByLabel('Value').fill('s3cret-value');
    await page.getByRole('button', { name: 'Set and roll out' }).click();
    await page.getByRole('link', { name: 'deployment #2' }).waitFor();
    const row = page.locator('tr', { hasText: 'GREETING' });
    await row.waitFor();
    expect(await row.textContent()).not.toContain('s3cret-value');
    await shot(page, 'env');
    await page.getByRole('link', { name: 'deployment #2' }).click();
    await waitForLogStatus(page, 'live');
  });

  test('rolls back to the first release from the deployments list', async () => {
    await page.getByRole('link', { name: 'All deployments' }).click();
    await page.getByRole('button', { name: 'Roll back to #1' }).click();
    await page.waitForURL(/\/deployments\/dep_/);
    await waitForLogStatus(page, 'live');
    const list = (await (await agent.call('GET', `/v1/projects/${P}/deployments`)).json()) as {
      data: { number: number; trigger: string; status: string }[];
    };
    expect(list.data[0]).toMatchObject({ number: 3, trigger: 'rollback', status: 'live' });
    // The release of #1 comes back with its env: GREETING was set after it.
    const env = (await (await agent.call('GET', `/v1/projects/${P}/env`)).json()) as { data: { key: string }[] };
    expect(env.data.map((v) => v.key)).not.toContain('GREETING');
    await page.getByRole('link', { name: 'All deployments' }).click();
    await page.locator('td', { hasText: 'rollback' }).waitFor();
    await shot(page, 'project');
  });

  test('shows runtime logs, metrics, domains and the database of the project', async () => {
    await page.getByRole('link', { name: 'Runtime logs' }).click();
    await page.getByText('Following').waitFor({ timeout: 5000 });
    await page.getByRole('link', { name: 'Metrics' }).click();
    await page.locator('figcaption', { hasText: 'CPU' }).first().waitFor({ timeout: 20_000 });
    await shot(page, 'metrics');
    await page.getByRole('link', { name: 'Domains' }).click();
    await page.getByText('No custom domains.').waitFor();
    await page.getByRole('link', { name: 'Database' }).click();
    await page.getByText('This project has no database.').waitFor();
    await page.getByRole('link', { name: 'Deployments' }).click();
  });

  test("shows the project's volumes and downloads one's tar with the session cookie and restores it", async () => {
    await page.getByRole('link', { name: 'Volumes' }).click();
    const row = page.locator('table.volumes tr', { hasText: '/data' });
    await row.waitFor();
    expect(await page.getByText('Volume size of the project').count()).toBe(1);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download data' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(new RegExp(`^${P}-data-.+\\.tar$`));
    expect(await download.failure()).toBeNull();
    // A tar (ustar magic at 257), not an error envelope: the cookie authenticated the GET.
    const tar = readFileSync((await download.path())!);
    expect(tar.subarray(257, 262).toString()).toBe('ustar');
    // Restoring it from that tar (the app restarts on it); a file that is no archive is refused with the API's message.
    page.on('dialog', (dialog) => void dialog.accept());
    const input = page.getByLabel('Restore data from a tar');
    await input.setInputFiles({ name: 'junk.tar', mimeType: 'application/x-tar', buffer: Buffer.from('not a tar') });
    await page.locator('.restore .error .rid').waitFor({ timeout: 20_000 });
    await input.setInputFiles({ name: 'data.tar', mimeType: 'application/x-tar', buffer: tar });
    await page.getByText('Restored data').waitFor({ timeout: 60_000 });
    page.removeAllListeners('dialog');
    await shot(page, 'volumes');
  });

  test('shows the projects, activity and tokens pages', async () => {
    await page.getByRole('link', { name: 'Projects' }).first().click();
    await page.locator('tr', { hasText: P }).locator('.badge', { hasText: 'live' }).waitFor();
    await shot(page, 'projects');
    await page.getByRole('link', { name: 'Activity' }).click();
    await page.locator('code', { hasText: 'session.create' }).first().waitFor();
    await shot(page, 'activity');
    await page.getByRole('link', { name: 'Tokens' }).click();
    await page.getByRole('heading', { name: 'All tokens' }).waitFor();
    await page.getByLabel('Name').fill('from-the-console');
    await page.getByRole('button', { name: 'Mint' }).click();
    expect(await page.locator('code.secret').textContent()).toMatch(/^slw_[0-9A-Za-z]{38}$/);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Revoke from-the-console' }).click();
    await page.locator('tr', { hasText: 'from-the-console' }).getByText('revoked').waitFor();
    await shot(page, 'tokens');
  });

  test('adds a webhook from the form and shows its signing secret once', async () => {
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByLabel('URL').fill(`http://127.0.0.1:${receiver.port}/hook`);
    await page.getByLabel(/^Project/).fill(P);
    await page.getByRole('button', { name: 'Add webhook' }).click();
    expect(await page.locator('code.secret').textContent()).toMatch(/^whsec_/);
    await page.locator('table.webhooks tr', { hasText: 'deployment.failed' }).waitFor();
  });

  test('lists a failed deployment in the dead letter with its reason, and Retry re-queues it', async () => {
    const archive = tgzOf([{ name: 'Dockerfile', body: 'FROM scratch\nRUN false\n' }]);
    const res = await agent.call('POST', `/v1/projects/${P}/deployments`, new Uint8Array(archive), {
      'content-type': 'application/gzip',
    });
    const { id } = (await res.json()) as { id: string };
    const failed = await waitForStatus(agent, P, id, ['failed']);
    await page.getByRole('link', { name: 'Dead letter' }).click();
    await page.getByLabel('Kind').selectOption('deployment');
    await page.getByLabel('Project').fill(P);
    await page.getByRole('button', { name: 'Filter' }).click();
    const row = page.locator('table.dead-letter tbody tr').first();
    await row.locator('td.reason', { hasText: failed.failure_reason! }).waitFor();
    await shot(page, 'dead-letter');
    await row.getByRole('button', { name: 'Retry' }).click();
    await row
      .getByRole('status')
      .getByText(/queued from the same source/)
      .waitFor();
    const list = (await (await agent.call('GET', `/v1/projects/${P}/deployments?limit=1`)).json()) as {
      data: { id: string; number: number }[];
    };
    expect(list.data[0]!.id).not.toBe(id);
    await waitForStatus(agent, P, list.data[0]!.id, ['failed']);
  });

  test("shows a webhook's deliveries, redelivers one and removes the webhook", async () => {
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('button', { name: 'Deliveries' }).click();
    const row = page.locator('table.deliveries tbody tr', { hasText: 'deployment.failed' }).first();
    await row.locator('.badge', { hasText: 'delivered' }).waitFor({ timeout: 20_000 });
    const eventId = await row.getAttribute('data-event-id');
    const sent = () => received.filter((e) => e.id === eventId).length;
    expect(sent()).toBe(1);
    await row.getByRole('button', { name: 'Redeliver' }).click();
    const deadline = Date.now() + 20_000;
    while (sent() < 2 && Date.now() < deadline) await Bun.sleep(50);
    expect(sent()).toBe(2);
    await shot(page, 'webhooks');
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: /^Remove http/ }).click();
    await page.getByText('No webhooks.').waitFor();
  });

  test('signs out: the session ends and a reload shows the sign-in form', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API token').waitFor();
    expect(await page.context().cookies()).toEqual([]);
    await page.reload();
    await page.getByLabel('API token').waitFor();
    await page.context().close();
  });

  test('a read token sees everything but no control that changes anything', async () => {
    const res = await agent.call('POST', '/v1/tokens', { name: 'viewer', scope: 'read' });
    const { token } = (await res.json()) as { token: string };
    const stored = await agent.call('PATCH', `/v1/projects/${P}/env?restart=false`, { vars: { STORED_ONLY: 'x' } });
    expect(stored.status).toBe(200);
    // This one's system asks for dark: the console follows it.
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'dark' });
    const viewer = await context.newPage();
    await signIn(viewer, token);
    expect(await viewer.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgb(15, 19, 24)');
    expect(await viewer.getByRole('link', { name: 'Tokens' }).count()).toBe(0);
    expect(await viewer.getByRole('link', { name: 'Webhooks' }).count()).toBe(0);
    expect(await viewer.getByLabel('New project').count()).toBe(0);
    await viewer.getByRole('link', { name: P }).click();
    await viewer.locator('td', { hasText: 'rollback' }).waitFor();
    for (const name of ['Restart', 'Stop', 'Scale', /^Roll back/, /^Redeploy/, /^Retry/, 'choose an archive']) {
      expect(`${name}: ${await viewer.getByRole('button', { name }).count()}`).toBe(`${name}: 0`);
    }
    expect(await viewer.getByTestId('deploy-drop').count()).toBe(0);
    await viewer.getByRole('link', { name: 'Env' }).click();
    await viewer.locator('tr', { hasText: 'STORED_ONLY' }).waitFor();
    expect(await viewer.getByRole('button', { name: /^Unset/ }).count()).toBe(0);
    expect(await viewer.getByLabel('Key').count()).toBe(0);
    await shot(viewer, 'read-only-env');
    await viewer.getByRole('link', { name: 'Volumes' }).click();
    await viewer.locator('table.volumes tr', { hasText: '/data' }).waitFor();
    expect(await viewer.getByRole('link', { name: /^Download/ }).count()).toBe(0);
    expect(await viewer.getByLabel(/^Restore/).count()).toBe(0);
    await viewer.getByRole('link', { name: 'Dead letter' }).click();
    await viewer.locator('table.dead-letter td', { hasText: P }).first().waitFor();
    expect(await viewer.getByRole('button', { name: 'Retry' }).count()).toBe(0);
    await context.close();
  });
});
