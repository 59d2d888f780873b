/** The project's Postgres: status, size, dump download (admin), and provisioning. */
import { ApiError, api, seg } from './api.ts';
import type { DatabaseInfo, Me } from './types.ts';
import { ago, bytes, ErrorNote, Section, Status, useAction, useLoad } from './ui.tsx';

export function DatabaseTab({ project, me }: { project: string; me: Me }) {
  const path = `/v1/projects/${seg(project)}/database`;
  const { data, error, reload } = useLoad(
    () =>
      api<DatabaseInfo>('GET', path).catch((e) =>
        e instanceof ApiError && e.status === 404 ? null : Promise.reject(e),
      ),
    [path],
  );
  const action = useAction();
  const provision = () =>
    action.run(async () => {
      await api('POST', path);
      reload();
    });
  return (
    <Section title="Database">
      <ErrorNote error={error ?? action.error} />
      {data === null ? (
        <>
          <p>This project has no database.</p>
          {me.scope !== 'read' ? (
            <button type="button" disabled={action.busy} onClick={provision}>
              Provision a Postgres
            </button>
          ) : null}
        </>
      ) : null}
      {data ? (
        <>
          <dl class="facts">
            <dt>Status</dt>
            <dd>
              <Status status={data.status} />
            </dd>
            <dt>Version</dt>
            <dd>{data.version ?? '—'}</dd>
            <dt>Size</dt>
            <dd>{bytes(data.size_bytes)}</dd>
            <dt>Created</dt>
            <dd>{ago(data.created_at)}</dd>
          </dl>
          {data.warnings.map((w) => (
            <p class="note" key={w}>
              {w}
            </p>
          ))}
          {me.scope === 'admin' ? (
            <a class="button" href={`${path}/dump`} download={`${project}.dump`}>
              Download a dump
            </a>
          ) : null}
        </>
      ) : null}
    </Section>
  );
}
