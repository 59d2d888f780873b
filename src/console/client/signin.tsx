/** Sign-in: with an API token, or with the one-time link from `slipway console-link` (#link=… in the URL). */
import { useEffect, useState } from 'preact/hooks';
import { api } from './api.ts';
import type { Me } from './types.ts';
import { ErrorNote } from './ui.tsx';

interface Session {
  principal: Me;
}

export function SignIn({ onSignedIn }: { onSignedIn: (me: Me) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const signIn = async (body: { token: string } | { link: string }) => {
    setBusy(true);
    setError(null);
    try {
      const session = await api<Session>('POST', '/v1/sessions', body);
      onSignedIn(session.principal);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  useEffect(() => {
    const link = /^#link=([0-9a-z]+)$/.exec(location.hash)?.[1];
    if (!link) return;
    // The code is used once: drop it from the address bar and history straight away.
    history.replaceState(null, '', location.pathname);
    void signIn({ link });
  }, []);

  return (
    <main class="signin">
      <h1>Slipway console</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void signIn({ token: token.trim() });
        }}
      >
        <label for="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="current-password"
          required
          value={token}
          onInput={(e) => setToken((e.target as HTMLInputElement).value)}
        />
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <ErrorNote error={error} />
      </form>
      <p class="hint">
        On the host, <code>slipway console-link</code> prints a one-time sign-in link instead.
      </p>
    </main>
  );
}
