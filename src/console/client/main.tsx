/** The console: signs in, then routes between the projects, a project, tokens and activity. */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api } from './api.ts';
import { interceptLinks, navigate, usePath } from './router.ts';
import type { Me } from './types.ts';
import { SignIn } from './signin.tsx';
import { Projects } from './projects.tsx';
import { ProjectPage } from './project.tsx';
import { Tokens } from './tokens.tsx';
import { ActivityPage } from './activity.tsx';
import { DeadLetterPage } from './dead-letter.tsx';
import { WebhooksPage } from './webhooks.tsx';
import { ErrorNote } from './ui.tsx';

function App() {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const path = usePath();

  useEffect(() => {
    api<Me>('GET', '/v1/me').then(setMe, (e) => (e.status === 401 ? setMe(null) : setError(e)));
    const out = () => setMe(null);
    window.addEventListener('slipway:signed-out', out);
    return () => window.removeEventListener('slipway:signed-out', out);
  }, []);

  if (error) return <ErrorNote error={error} />;
  if (me === undefined) return <p class="boot">Loading…</p>;
  if (me === null) return <SignIn onSignedIn={setMe} />;

  const signOut = async () => {
    try {
      await api('DELETE', '/v1/sessions/current');
    } finally {
      setMe(null);
      navigate('/console');
    }
  };
  return (
    <>
      <header class="top">
        <a class="brand" href="/console">
          Slipway
        </a>
        <nav aria-label="Main">
          <a
            href="/console"
            aria-current={path === '/console' || path.startsWith('/console/projects') ? 'page' : undefined}
          >
            Projects
          </a>
          {me.scope === 'admin' ? (
            <a href="/console/tokens" aria-current={path === '/console/tokens' ? 'page' : undefined}>
              Tokens
            </a>
          ) : null}
          <a href="/console/activity" aria-current={path === '/console/activity' ? 'page' : undefined}>
            Activity
          </a>
          <a href="/console/dead-letter" aria-current={path === '/console/dead-letter' ? 'page' : undefined}>
            Dead letter
          </a>
          {me.scope === 'admin' ? (
            <a href="/console/webhooks" aria-current={path === '/console/webhooks' ? 'page' : undefined}>
              Webhooks
            </a>
          ) : null}
        </nav>
        <span class="who">
          {me.name} · {me.scope}
          {me.projects ? ` · ${me.projects.join(', ') || 'no projects'}` : ''}
        </span>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main>
        <Page path={path} me={me} />
      </main>
    </>
  );
}

function Page({ path, me }: { path: string; me: Me }) {
  const parts = path
    .replace(/^\/console\/?/, '')
    .split('/')
    .filter(Boolean)
    .map(decodeURIComponent);
  if (parts[0] === 'projects' && parts[1]) return <ProjectPage name={parts[1]} rest={parts.slice(2)} me={me} />;
  if (parts[0] === 'tokens') return <Tokens me={me} />;
  if (parts[0] === 'activity') return <ActivityPage />;
  if (parts[0] === 'dead-letter') return <DeadLetterPage me={me} />;
  if (parts[0] === 'webhooks') return <WebhooksPage me={me} />;
  if (parts.length === 0) return <Projects me={me} />;
  return (
    <p>
      No such page. <a href="/console">Back to the projects</a>
    </p>
  );
}

interceptLinks();
const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(<App />, root);
}
