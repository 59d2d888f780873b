/** The activity log with filters by project, token and action, newest first, page by page. */
import { useEffect, useState } from 'preact/hooks';
import { api } from './api.ts';
import type { Activity } from './types.ts';
import { ago, ErrorNote, useAction } from './ui.tsx';

interface Filters {
  project: string;
  token_id: string;
  action: string;
}

export function ActivityPage() {
  const [filters, setFilters] = useState<Filters>({ project: '', token_id: '', action: '' });
  const [rows, setRows] = useState<Activity[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const load = useAction();
  const fetchPage = (after: string | null, append: boolean) =>
    load.run(async () => {
      const q = new URLSearchParams({ limit: '50' });
      for (const [k, v] of Object.entries(filters)) if (v.trim()) q.set(k, v.trim());
      if (after) q.set('cursor', after);
      const page = await api<{ data: Activity[]; pagination: { next_cursor: string | null } }>(
        'GET',
        `/v1/activity?${q}`,
      );
      setRows((r) => (append && r ? [...r, ...page.data] : page.data));
      setCursor(page.pagination.next_cursor);
    });
  useEffect(() => void fetchPage(null, false), []);
  const field = (key: keyof Filters, label: string) => (
    <>
      <label for={`filter-${key}`}>{label}</label>
      <input
        id={`filter-${key}`}
        value={filters[key]}
        onInput={(e) => setFilters({ ...filters, [key]: (e.target as HTMLInputElement).value })}
      />
    </>
  );
  return (
    <>
      <h1>Activity</h1>
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          void fetchPage(null, false);
        }}
      >
        {field('project', 'Project')}
        {field('token_id', 'Token id')}
        {field('action', 'Action')}
        <button type="submit">Filter</button>
      </form>
      <ErrorNote error={load.error} />
      <table>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Project</th>
            <th scope="col">Request</th>
          </tr>
        </thead>
        <tbody>
          {rows?.map((a) => (
            <tr key={a.id}>
              <td title={a.created_at}>{ago(a.created_at)}</td>
              <td>{a.token.name ?? '—'}</td>
              <td>
                <code>{a.action}</code>
              </td>
              <td>{a.target}</td>
              <td>{a.project ?? '—'}</td>
              <td>
                <code>{a.request_id ?? '—'}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {rows?.length === 0 ? <p>Nothing recorded.</p> : null}
      {cursor ? (
        <button type="button" disabled={load.busy} onClick={() => fetchPage(cursor, true)}>
          Load more
        </button>
      ) : null}
    </>
  );
}
