/** Tokens (admin): list, mint (the secret shown once) and revoke. */
import { useState } from 'preact/hooks';
import { api, listAll, seg } from './api.ts';
import type { Me, Scope, Token } from './types.ts';
import { ago, ErrorNote, Section, useAction, useLoad } from './ui.tsx';

export function Tokens({ me }: { me: Me }) {
  const { data, error, reload } = useLoad(
    () => (me.scope === 'admin' ? listAll<Token>('/v1/tokens') : Promise.resolve([])),
    [],
  );
  const [minted, setMinted] = useState<string | null>(null);
  const action = useAction();
  if (me.scope !== 'admin') return <p>Only an admin token can see the tokens.</p>;
  return (
    <>
      <h1>Tokens</h1>
      <ErrorNote error={error ?? action.error} />
      {minted ? (
        <p class="note" role="status">
          New token, shown once: <code class="secret">{minted}</code>
        </p>
      ) : null}
      <MintForm
        onMinted={(token) => {
          setMinted(token);
          reload();
        }}
      />
      <Section title="All tokens">
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Scope</th>
              <th scope="col">Projects</th>
              <th scope="col">Hint</th>
              <th scope="col">Last used</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {data?.map((t) => (
              <tr key={t.id}>
                <td>{t.name}</td>
                <td>{t.scope}</td>
                <td>{t.projects ? t.projects.join(', ') || 'none' : 'all'}</td>
                <td>
                  <code>{t.hint}</code>
                </td>
                <td>{ago(t.last_used_at)}</td>
                <td>
                  {t.revoked_at ? (
                    'revoked'
                  ) : (
                    <button
                      type="button"
                      disabled={action.busy}
                      onClick={() =>
                        confirm(`Revoke "${t.name}"? Its console sessions end too.`) &&
                        action.run(async () => {
                          await api('DELETE', `/v1/tokens/${seg(t.id)}`);
                          reload();
                        })
                      }
                    >
                      Revoke {t.name}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
    </>
  );
}

/** Mints a token: name, scope and optional projects; hands the secret to `onMinted`. */
function MintForm({ onMinted }: { onMinted: (token: string) => void }) {
  const [name, setName] = useState('');
  const [scope, setScope] = useState<Scope>('read');
  const [projects, setProjects] = useState('');
  const action = useAction();
  const mint = () =>
    action.run(async () => {
      const list = projects
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean);
      const t = await api<{ token: string }>('POST', '/v1/tokens', {
        name,
        scope,
        projects: list.length ? list : null,
      });
      setName('');
      onMinted(t.token);
    });
  return (
    <Section title="Mint a token">
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          void mint();
        }}
      >
        <label for="token-name">Name</label>
        <input id="token-name" required value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        <label for="token-scope">Scope</label>
        <select
          id="token-scope"
          value={scope}
          onChange={(e) => setScope((e.target as HTMLSelectElement).value as Scope)}
        >
          <option value="read">read</option>
          <option value="deploy">deploy</option>
          <option value="admin">admin</option>
        </select>
        <label for="token-projects">Projects (comma-separated, empty for all)</label>
        <input
          id="token-projects"
          value={projects}
          onInput={(e) => setProjects((e.target as HTMLInputElement).value)}
        />
        <button type="submit" disabled={action.busy}>
          Mint
        </button>
      </form>
      <ErrorNote error={action.error} />
    </Section>
  );
}
