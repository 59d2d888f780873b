/** Every project at a glance, from /v1/overview (database only, so it never waits on Docker). */
import { useState } from 'preact/hooks';
import { api, listAll } from './api.ts';
import { navigate } from './router.ts';
import type { Me, Overview } from './types.ts';
import { ago, ErrorNote, Status, useAction, useLoad } from './ui.tsx';

export function Projects({ me }: { me: Me }) {
  const { data, error } = useLoad(() => listAll<Overview>('/v1/overview'), []);
  return (
    <>
      <div class="page-head">
        <h1>Projects</h1>
        {me.scope !== 'read' && me.projects === null ? <NewProject /> : null}
      </div>
      <ErrorNote error={error} />
      {data === undefined ? (
        error ? null : (
          <p>Loading…</p>
        )
      ) : data.length === 0 ? (
        <p>No projects yet.</p>
      ) : (
        <table class="projects">
          <thead>
            <tr>
              <th scope="col">Project</th>
              <th scope="col">Status</th>
              <th scope="col">Live release</th>
              <th scope="col">Domains</th>
              <th scope="col">Last deploy</th>
            </tr>
          </thead>
          <tbody>
            {data.map((p) => (
              <tr key={p.name}>
                <td>
                  <a href={`/console/projects/${encodeURIComponent(p.name)}`}>{p.name}</a>
                </td>
                <td>
                  {p.desired_state === 'stopped' ? (
                    <Status status="stopped" />
                  ) : (
                    <Status status={p.live ? 'running' : 'idle'} />
                  )}
                </td>
                <td>{p.live ? `#${p.live.number}` : '—'}</td>
                <td>{[p.hostname, ...p.domains].join(', ')}</td>
                <td>
                  {p.last ? (
                    <>
                      #{p.last.number} <Status status={p.last.status} /> {ago(p.last.created_at)}
                    </>
                  ) : (
                    'never'
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function NewProject() {
  const [name, setName] = useState('');
  const action = useAction();
  return (
    <form
      class="inline"
      onSubmit={(e) => {
        e.preventDefault();
        void action.run(async () => {
          await api('POST', '/v1/projects', { name });
          navigate(`/console/projects/${encodeURIComponent(name)}`);
        });
      }}
    >
      <label for="new-project">New project</label>
      <input
        id="new-project"
        required
        pattern="[a-z][a-z0-9\-]{0,62}"
        value={name}
        onInput={(e) => setName((e.target as HTMLInputElement).value)}
      />
      <button type="submit" disabled={action.busy}>
        Create
      </button>
      <ErrorNote error={action.error} />
    </form>
  );
}
