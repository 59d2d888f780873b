/** Env vars: masked values, set and unset, each change rolling out a new release. */
import { useState } from 'preact/hooks';
import { api, seg } from './api.ts';
import type { Deployment, EnvVar, Me } from './types.ts';
import { ago, ErrorNote, Section, useAction, useLoad } from './ui.tsx';

interface EnvList {
  data: EnvVar[];
  deployment?: Deployment | null;
}

export function EnvTab({ project, me }: { project: string; me: Me }) {
  const path = `/v1/projects/${seg(project)}/env`;
  const { data, error, reload } = useLoad(() => api<EnvList>('GET', path), [path]);
  const [rollout, setRollout] = useState<Deployment | null>(null);
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const action = useAction();
  const mayEdit = me.scope !== 'read';
  const change = (method: string, url: string, body?: unknown) =>
    action.run(async () => {
      const res = await api<EnvList>(method, url, body);
      setRollout(res.deployment ?? null);
      reload();
    });
  return (
    <Section title="Environment">
      <ErrorNote error={error ?? action.error} />
      {rollout ? (
        <p class="note" role="status">
          Rolling out:{' '}
          <a href={`/console/projects/${seg(project)}/deployments/${seg(rollout.id)}`}>deployment #{rollout.number}</a>
        </p>
      ) : null}
      {data && data.data.length === 0 ? <p>No variables.</p> : null}
      {data && data.data.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Value</th>
              <th scope="col">Updated</th>
              {mayEdit ? <th scope="col">Actions</th> : null}
            </tr>
          </thead>
          <tbody>
            {data.data.map((v) => (
              <tr key={v.key}>
                <td>
                  <code>{v.key}</code>
                </td>
                <td>
                  <code>{v.value}</code>
                  {v.managed_by ? <span class="reason"> (set by {v.managed_by})</span> : null}
                </td>
                <td>{ago(v.updated_at)}</td>
                {mayEdit ? (
                  <td>
                    {v.managed_by ? null : (
                      <button
                        type="button"
                        disabled={action.busy}
                        onClick={() => change('DELETE', `${path}/${seg(v.key)}`)}
                      >
                        Unset {v.key}
                      </button>
                    )}
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {mayEdit ? (
        <form
          class="inline"
          onSubmit={(e) => {
            e.preventDefault();
            void change('PATCH', path, { vars: { [key]: value } }).then(() => {
              setKey('');
              setValue('');
            });
          }}
        >
          <label for="env-key">Key</label>
          <input id="env-key" required value={key} onInput={(e) => setKey((e.target as HTMLInputElement).value)} />
          <label for="env-value">Value</label>
          <input
            id="env-value"
            type="password"
            autocomplete="off"
            value={value}
            onInput={(e) => setValue((e.target as HTMLInputElement).value)}
          />
          <button type="submit" disabled={action.busy}>
            Set and roll out
          </button>
        </form>
      ) : null}
    </Section>
  );
}
