/** Deployments: the history with its actions, deploy by drop, and the build/deploy log following live. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, listAll, seg } from './api.ts';
import { navigate } from './router.ts';
import { FINAL, type Deployment, type Me } from './types.ts';
import { ago, duration, ErrorNote, Section, Status, useAction, useLoad } from './ui.tsx';
import { DeployDrop } from './deploy-drop.tsx';

const RUNNING = ['queued', 'building', 'deploying'];

export function Deployments({ project, me }: { project: string; me: Me }) {
  const path = `/v1/projects/${seg(project)}/deployments`;
  const { data, error, reload } = useLoad(() => listAll<Deployment>(path, 100), [project]);
  const action = useAction();
  const mayDeploy = me.scope !== 'read';
  // While something runs, refresh the list every few seconds.
  useEffect(() => {
    if (!data?.some((d) => RUNNING.includes(d.status))) return;
    const timer = setInterval(reload, 3000);
    return () => clearInterval(timer);
  }, [data, reload]);
  const act = (label: string, method: string, url: string, body?: unknown) =>
    action.run(async () => {
      const d = await api<Deployment>(method, url, body);
      if (label !== 'cancel') navigate(`/console/projects/${seg(project)}/deployments/${seg(d.id)}`);
      else reload();
    });
  return (
    <>
      {mayDeploy ? <DeployDrop project={project} /> : null}
      <Section title="Deployments">
        <ErrorNote error={error ?? action.error} />
        {data && data.length === 0 ? <p>No deployments yet.</p> : null}
        {data && data.length > 0 ? (
          <table>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Status</th>
                <th scope="col">Trigger</th>
                <th scope="col">Created</th>
                <th scope="col">Duration</th>
                {mayDeploy ? <th scope="col">Actions</th> : null}
              </tr>
            </thead>
            <tbody>
              {data.map((d) => (
                <tr key={d.id}>
                  <td>
                    <a href={`/console/projects/${seg(project)}/deployments/${seg(d.id)}`}>#{d.number}</a>
                  </td>
                  <td>
                    <Status status={d.status} />
                    {d.failure_reason ? <span class="reason"> {d.failure_reason}</span> : null}
                  </td>
                  <td>{d.trigger}</td>
                  <td>{ago(d.created_at)}</td>
                  <td>{duration(d.started_at ?? d.created_at, d.finished_at)}</td>
                  {mayDeploy ? (
                    <td class="row-actions">
                      <RowActions d={d} busy={action.busy} act={act} path={path} project={project} />
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </Section>
    </>
  );
}

type Act = (label: string, method: string, url: string, body?: unknown) => Promise<void>;

/** What can be done with a deployment in its status: cancel, retry, redeploy or roll back to it. */
function RowActions(props: { d: Deployment; busy: boolean; act: Act; path: string; project: string }) {
  const { d, busy, act, path, project } = props;
  const at = `${path}/${seg(d.id)}`;
  if (RUNNING.includes(d.status))
    return (
      <button type="button" disabled={busy} onClick={() => act('cancel', 'POST', `${at}/cancel`)}>
        Cancel #{d.number}
      </button>
    );
  if ((d.status === 'failed' || d.status === 'canceled') && d.source?.kept)
    return (
      <button type="button" disabled={busy} onClick={() => act('retry', 'POST', `${at}/retry`)}>
        Retry #{d.number}
      </button>
    );
  if (d.status === 'live' && d.source?.kept)
    return (
      <button type="button" disabled={busy} onClick={() => act('redeploy', 'POST', `${at}/retry`)}>
        Redeploy #{d.number}
      </button>
    );
  if (d.status === 'replaced')
    return (
      <button
        type="button"
        disabled={busy}
        onClick={() => act('rollback', 'POST', `/v1/projects/${seg(project)}/rollback`, { deployment_id: d.id })}
      >
        Roll back to #{d.number}
      </button>
    );
  return null;
}

/** One deployment's build and deploy log, following live over Server-Sent Events until it ends. */
export function DeploymentLog({ project, id }: { project: string; id: string }) {
  const path = `/v1/projects/${seg(project)}/deployments/${seg(id)}`;
  const { data, reload } = useLoad(() => api<Deployment>('GET', path), [path]);
  const [lines, setLines] = useState<string[]>([]);
  const [end, setEnd] = useState<{ status: string; failure_reason: string | null } | null>(null);
  const [streamError, setStreamError] = useState<string | null>(null);
  const box = useRef<HTMLPreElement>(null);
  useEffect(() => {
    setLines([]);
    setEnd(null);
    const source = new EventSource(`${path}/logs?follow=true`);
    source.onmessage = (e) => setLines((l) => [...l, e.data]);
    source.addEventListener('end', (e) => {
      setEnd(JSON.parse((e as MessageEvent).data));
      source.close();
      reload();
    });
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) setStreamError('The log stream was closed by the server');
    };
    return () => source.close();
  }, [path, reload]);
  useEffect(() => {
    const el = box.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [lines]);
  const status = end?.status ?? data?.status ?? 'queued';
  return (
    <Section
      title={`Deployment #${data?.number ?? '…'}`}
      actions={<a href={`/console/projects/${seg(project)}/deployments`}>All deployments</a>}
    >
      <p class="log-status" aria-live="polite">
        Status: <Status status={status} />
        {FINAL.includes(status) ? null : <span class="spinner" aria-hidden="true" />}
        {end?.failure_reason ? <span class="reason"> {end.failure_reason}</span> : null}
      </p>
      {streamError && !end ? <p class="error">{streamError}</p> : null}
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling log must be reachable by keyboard to scroll it */}
      <pre class="log" ref={box} role="log" tabIndex={0} aria-label="Build and deploy log">
        {lines.join('\n')}
      </pre>
    </Section>
  );
}
