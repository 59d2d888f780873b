/** One project: its lifecycle actions and a tab per concern (deployments, logs, env, domains, database, metrics, volumes). */
import { useState } from 'preact/hooks';
import { api, listAll, seg } from './api.ts';
import type { Me, Overview } from './types.ts';
import { ErrorNote, Status, useAction, useLoad } from './ui.tsx';
import { Deployments, DeploymentLog } from './deployments.tsx';
import { RuntimeLogs } from './runtime-logs.tsx';
import { EnvTab } from './env.tsx';
import { DomainsTab } from './domains.tsx';
import { DatabaseTab } from './database.tsx';
import { MetricsTab } from './metrics.tsx';
import { VolumesTab } from './volumes.tsx';

const TABS = [
  ['deployments', 'Deployments'],
  ['logs', 'Runtime logs'],
  ['env', 'Env'],
  ['domains', 'Domains'],
  ['database', 'Database'],
  ['metrics', 'Metrics'],
  ['volumes', 'Volumes'],
] as const;

/** Whether the signed-in token may change this project. */
export const canDeploy = (me: Me) => me.scope !== 'read';

export function ProjectPage({ name, rest, me }: { name: string; rest: string[]; me: Me }) {
  const {
    data: project,
    error,
    reload,
  } = useLoad(async () => {
    const found = (await listAll<Overview>('/v1/overview')).find((p) => p.name === name);
    if (!found) throw new Error(`No project named "${name}"`);
    return found;
  }, [name]);
  const tab = rest[0] ?? 'deployments';
  const base = `/console/projects/${seg(name)}`;
  return (
    <>
      <div class="page-head">
        <h1>{name}</h1>
        {project ? (
          <>
            <Status status={project.desired_state} />
            <a class="app-link" href={project.url} target="_blank" rel="noreferrer">
              Open app
            </a>
          </>
        ) : null}
      </div>
      <ErrorNote error={error} />
      {project && canDeploy(me) ? <Lifecycle project={project} onDone={reload} /> : null}
      <nav class="tabs" aria-label="Project">
        {TABS.map(([id, label]) => (
          <a key={id} href={`${base}/${id}`} aria-current={tab === id ? 'page' : undefined}>
            {label}
          </a>
        ))}
      </nav>
      {tab === 'deployments' && rest[1] ? <DeploymentLog project={name} id={rest[1]} /> : null}
      {tab === 'deployments' && !rest[1] ? <Deployments project={name} me={me} /> : null}
      {tab === 'logs' ? <RuntimeLogs project={name} /> : null}
      {tab === 'env' ? <EnvTab project={name} me={me} /> : null}
      {tab === 'domains' ? <DomainsTab project={name} me={me} /> : null}
      {tab === 'database' ? <DatabaseTab project={name} me={me} /> : null}
      {tab === 'metrics' ? <MetricsTab project={name} /> : null}
      {tab === 'volumes' ? <VolumesTab project={name} me={me} /> : null}
    </>
  );
}

function Lifecycle({ project, onDone }: { project: Overview; onDone: () => void }) {
  const action = useAction();
  const [instances, setInstances] = useState(String(project.instances));
  const call = (path: string, body?: unknown) =>
    action.run(async () => {
      await api('POST', `/v1/projects/${seg(project.name)}/${path}`, body);
      onDone();
    });
  return (
    <div class="actions">
      {project.desired_state === 'stopped' ? (
        <button type="button" disabled={action.busy} onClick={() => call('start')}>
          Start
        </button>
      ) : (
        <button type="button" disabled={action.busy} onClick={() => confirm(`Stop ${project.name}?`) && call('stop')}>
          Stop
        </button>
      )}
      <button type="button" disabled={action.busy} onClick={() => call('restart')}>
        Restart
      </button>
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          void call('scale', { instances: Number(instances) });
        }}
      >
        <label for="instances">Instances</label>
        <input
          id="instances"
          type="number"
          min="1"
          max="20"
          value={instances}
          onInput={(e) => setInstances((e.target as HTMLInputElement).value)}
        />
        <button type="submit" disabled={action.busy}>
          Scale
        </button>
      </form>
      <ErrorNote error={action.error} />
    </div>
  );
}
