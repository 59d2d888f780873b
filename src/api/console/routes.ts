import { Elysia, t } from 'elysia';
import type { ProjectOverviewReader } from '../../console/overview.ts';
import { consoleAssets } from '../../console/assets.ts';
import { CONSOLE_HEADERS, consolePage } from '../../console/page.ts';
import { accessPlugin, visibleProjects } from '../access.ts';
import { AUTH_ERRORS, errors, Page, PageQuery, Timestamp } from '../schemas.ts';

const Brief = t.Object({
  id: t.String(),
  number: t.Integer(),
  status: t.String(),
  created_at: Timestamp,
  finished_at: t.Union([Timestamp, t.Null()]),
});
const Overview = t.Object({
  name: t.String(),
  hostname: t.String(),
  url: t.String({ description: "The app's address through the edge" }),
  desired_state: t.Union([t.Literal('running'), t.Literal('stopped')]),
  instances: t.Integer(),
  live: t.Union([Brief, t.Null()], { description: 'The live release, if any' }),
  last: t.Union([Brief, t.Null()], { description: 'The newest deployment, whatever its status' }),
  domains: t.Array(t.String()),
});

/** GET /v1/overview: every project at a glance, from the database alone (never waits on Docker). */
export function overviewRoutes({ overview }: { overview: ProjectOverviewReader }) {
  return new Elysia()
    .use(accessPlugin)
    .get(
      '/overview',
      ({ principal, query }) =>
        overview.list({ cursor: query.cursor, limit: query.limit ?? 50, only: visibleProjects(principal) }),
      {
        access: { scope: 'read', project: 'filter' },
        query: t.Object(PageQuery),
        detail: {
          summary: 'Projects at a glance',
          description: 'Each project with its live release, newest deployment and domains, ordered by name.',
          tags: ['Projects'],
        },
        response: { 200: Page(Overview), ...errors(400, 422, ...AUTH_ERRORS) },
      },
    );
}

/** The web console at /console: one page, its script and its stylesheet, all from the binary. */
export function consoleRoutes() {
  // Built on the first request (from source) or taken from the binary: never at app creation.
  let version: Promise<string> | undefined;
  const versionOf = () => {
    // A hash of the assets' text, so a new binary busts browsers' caches.
    version ??= consoleAssets().then((a) => Bun.hash(a.js + a.css).toString(36));
    return version;
  };
  const page = async () =>
    new Response(consolePage(await versionOf()), {
      headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', ...CONSOLE_HEADERS },
    });
  const asset = (kind: 'js' | 'css', type: string) => async () =>
    new Response((await consoleAssets())[kind], {
      headers: { 'content-type': type, 'cache-control': 'public, max-age=31536000, immutable', ...CONSOLE_HEADERS },
    });
  const hidden = { access: 'public' as const, detail: { hide: true } };
  return new Elysia({ prefix: '/console' })
    .use(accessPlugin)
    .get('/assets/app.js', asset('js', 'text/javascript; charset=utf-8'), hidden)
    .get('/assets/app.css', asset('css', 'text/css; charset=utf-8'), hidden)
    .get('', page, hidden)
    .get('/*', page, hidden);
}
