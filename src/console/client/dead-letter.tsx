/** The dead letter: what gave up, newest first, filtered by project and kind, each with its Retry. */
import { useEffect, useState } from 'preact/hooks';
import { api } from './api.ts';
import type { DeadLetter, DeadLetterKind, Me } from './types.ts';
import { ago, ErrorNote, useAction } from './ui.tsx';

const KINDS: [DeadLetterKind, string][] = [
  ['deployment', 'Deployment'],
  ['webhook_delivery', 'Webhook delivery'],
  ['backup', 'Backup'],
  ['certificate_renewal', 'Certificate renewal'],
];

/** Whether `me` may retry the item: deployments and renewals need deploy scope, the agent-wide kinds admin. */
export function canRetry(me: Me, item: DeadLetter): boolean {
  if (!item.retry || me.scope === 'read') return false;
  return item.kind === 'deployment' || item.kind === 'certificate_renewal' || me.scope === 'admin';
}

export function DeadLetterPage({ me }: { me: Me }) {
  const [filters, setFilters] = useState({ project: '', kind: '' });
  const [rows, setRows] = useState<DeadLetter[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const load = useAction();
  const fetchPage = (after: string | null, append: boolean) =>
    load.run(async () => {
      const q = new URLSearchParams({ limit: '50' });
      if (filters.project.trim()) q.set('project', filters.project.trim());
      if (filters.kind) q.set('kind', filters.kind);
      if (after) q.set('cursor', after);
      const page = await api<{ data: DeadLetter[]; pagination: { next_cursor: string | null } }>(
        'GET',
        `/v1/ops/dead-letter?${q}`,
      );
      setRows((r) => (append && r ? [...r, ...page.data] : page.data));
      setCursor(page.pagination.next_cursor);
    });
  useEffect(() => void fetchPage(null, false), []);
  return (
    <>
      <h1>Dead letter</h1>
      <p>Failed deployments, webhook deliveries out of retries, failed backups and failing certificate renewals.</p>
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          void fetchPage(null, false);
        }}
      >
        <label for="dl-project">Project</label>
        <input
          id="dl-project"
          value={filters.project}
          onInput={(e) => setFilters({ ...filters, project: (e.target as HTMLInputElement).value })}
        />
        <label for="dl-kind">Kind</label>
        <select
          id="dl-kind"
          value={filters.kind}
          onChange={(e) => setFilters({ ...filters, kind: (e.target as HTMLSelectElement).value })}
        >
          <option value="">All</option>
          {KINDS.map(([k, label]) => (
            <option key={k} value={k}>
              {label}
            </option>
          ))}
        </select>
        <button type="submit">Filter</button>
      </form>
      <ErrorNote error={load.error} />
      <table class="dead-letter">
        <thead>
          <tr>
            <th scope="col">Failed</th>
            <th scope="col">Kind</th>
            <th scope="col">Item</th>
            <th scope="col">Project</th>
            <th scope="col">Reason</th>
            <th scope="col">Retry</th>
          </tr>
        </thead>
        <tbody>
          {rows?.map((item) => (
            <Row key={`${item.kind}/${item.id}`} item={item} me={me} />
          ))}
        </tbody>
      </table>
      {rows?.length === 0 ? <p>Nothing gave up.</p> : null}
      {cursor ? (
        <button type="button" disabled={load.busy} onClick={() => fetchPage(cursor, true)}>
          Load more
        </button>
      ) : null}
    </>
  );
}

function Row({ item, me }: { item: DeadLetter; me: Me }) {
  const action = useAction();
  const [done, setDone] = useState<string | null>(null);
  const label =
    item.kind === 'deployment' && typeof item.detail.number === 'number' ? `#${item.detail.number}` : item.id;
  const retry = () =>
    action.run(async () => {
      const r = await api<{ message: string }>('POST', item.retry!.path);
      setDone(r.message);
    });
  return (
    <tr>
      <td title={item.failed_at}>{ago(item.failed_at)}</td>
      <td>{KINDS.find(([k]) => k === item.kind)?.[1] ?? item.kind}</td>
      <td>
        <code>{label}</code>
      </td>
      <td>{item.project ?? '—'}</td>
      <td class="reason">{item.reason ?? '—'}</td>
      <td>
        {done ? <span role="status">{done}</span> : null}
        {!done && canRetry(me, item) ? (
          <button type="button" disabled={action.busy} onClick={retry} aria-label={`Retry ${item.kind} ${label}`}>
            Retry
          </button>
        ) : null}
        {!done && !item.retry ? <span>retried by Slipway</span> : null}
        <ErrorNote error={action.error} />
      </td>
    </tr>
  );
}
