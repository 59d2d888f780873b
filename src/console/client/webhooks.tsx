/** Webhooks (admin): list, add (the signing secret shown once), remove, and each one's recent deliveries. */
import { useEffect, useState } from 'preact/hooks';
import { api, listAll, seg } from './api.ts';
import type { Delivery, Me, Webhook } from './types.ts';
import { ago, ErrorNote, Section, Status, useAction, useLoad } from './ui.tsx';

const EVENTS = [
  'deployment.queued',
  'deployment.live',
  'deployment.failed',
  'deployment.canceled',
  'domain.active',
  'domain.failed',
  'certificate.renewal_failed',
  'backup.done',
  'backup.failed',
];

export function WebhooksPage({ me }: { me: Me }) {
  const admin = me.scope === 'admin';
  const { data, error, reload } = useLoad(
    () => (admin ? listAll<Webhook>('/v1/webhooks') : Promise.resolve([])),
    [admin],
  );
  const [secret, setSecret] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const action = useAction();
  if (!admin) return <p>Only an admin token can see the webhooks.</p>;
  const remove = (w: Webhook) =>
    confirm(`Remove the webhook to ${w.url} and its deliveries?`) &&
    action.run(async () => {
      await api('DELETE', `/v1/webhooks/${seg(w.id)}`);
      reload();
    });
  return (
    <>
      <h1>Webhooks</h1>
      <ErrorNote error={error ?? action.error} />
      {secret ? (
        <p class="note" role="status">
          Signing secret, shown once: <code class="secret">{secret}</code>
        </p>
      ) : null}
      <AddForm
        onAdded={(s) => {
          setSecret(s);
          reload();
        }}
      />
      <Section title="All webhooks">
        {data?.length === 0 ? <p>No webhooks.</p> : null}
        <table class="webhooks">
          <thead>
            <tr>
              <th scope="col">URL</th>
              <th scope="col">Events</th>
              <th scope="col">Project</th>
              <th scope="col">Added</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {data?.map((w) => (
              <tr key={w.id}>
                <td>
                  <code>{w.url}</code>
                  {w.description ? <div>{w.description}</div> : null}
                </td>
                <td>{w.events.join(', ')}</td>
                <td>{w.project ?? 'all'}</td>
                <td title={w.created_at}>{ago(w.created_at)}</td>
                <td>
                  <button
                    type="button"
                    aria-expanded={open === w.id}
                    onClick={() => setOpen(open === w.id ? null : w.id)}
                  >
                    Deliveries
                  </button>{' '}
                  <button type="button" disabled={action.busy} onClick={() => remove(w)} aria-label={`Remove ${w.url}`}>
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
      {open ? <Deliveries webhook={open} /> : null}
    </>
  );
}

function AddForm({ onAdded }: { onAdded: (secret: string) => void }) {
  const [url, setUrl] = useState('');
  const [project, setProject] = useState('');
  const [description, setDescription] = useState('');
  const [events, setEvents] = useState<string[]>(['deployment.live', 'deployment.failed']);
  const action = useAction();
  const add = () =>
    action.run(async () => {
      const body = {
        url: url.trim(),
        events,
        project: project.trim() || null,
        description: description.trim() || null,
      };
      const made = await api<{ secret: string }>('POST', '/v1/webhooks', body);
      setUrl('');
      onAdded(made.secret);
    });
  const toggle = (e: string) => setEvents(events.includes(e) ? events.filter((x) => x !== e) : [...events, e]);
  return (
    <form
      class="inline"
      onSubmit={(e) => {
        e.preventDefault();
        void add();
      }}
    >
      <label for="wh-url">URL</label>
      <input id="wh-url" required value={url} onInput={(e) => setUrl((e.target as HTMLInputElement).value)} />
      <label for="wh-project">Project (empty: all, and agent-wide events)</label>
      <input id="wh-project" value={project} onInput={(e) => setProject((e.target as HTMLInputElement).value)} />
      <label for="wh-description">Description</label>
      <input
        id="wh-description"
        value={description}
        onInput={(e) => setDescription((e.target as HTMLInputElement).value)}
      />
      <fieldset class="events">
        <legend>Events</legend>
        {EVENTS.map((e) => (
          <label key={e} class="check">
            <input type="checkbox" checked={events.includes(e)} onChange={() => toggle(e)} /> {e}
          </label>
        ))}
      </fieldset>
      <button type="submit" disabled={action.busy}>
        Add webhook
      </button>
      <ErrorNote error={action.error} />
    </form>
  );
}

function Deliveries({ webhook }: { webhook: string }) {
  const path = `/v1/webhooks/${seg(webhook)}/deliveries`;
  const { data, error, reload } = useLoad(() => api<{ data: Delivery[] }>('GET', `${path}?limit=20`), [webhook]);
  const action = useAction();
  // While a delivery is still being tried, refresh the list every few seconds.
  useEffect(() => {
    if (!data?.data.some((d) => d.status === 'pending')) return;
    const timer = setInterval(reload, 3000);
    return () => clearInterval(timer);
  }, [data, reload]);
  const redeliver = (d: Delivery) =>
    action.run(async () => {
      await api('POST', `${path}/${seg(d.id)}/redeliver`);
      reload();
    });
  return (
    <Section title="Recent deliveries">
      <ErrorNote error={error ?? action.error} />
      {data?.data.length === 0 ? <p>No deliveries yet.</p> : null}
      <table class="deliveries">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Event</th>
            <th scope="col">Status</th>
            <th scope="col">Attempts</th>
            <th scope="col">Last answer</th>
            <th scope="col">Redeliver</th>
          </tr>
        </thead>
        <tbody>
          {data?.data.map((d) => (
            <tr key={d.id} data-event-id={d.event_id}>
              <td title={d.created_at}>{ago(d.created_at)}</td>
              <td>
                <code>{d.event}</code>
              </td>
              <td>
                <Status status={d.status} />
              </td>
              <td>{d.attempts}</td>
              <td>{d.response_code ?? d.error ?? '—'}</td>
              <td>
                {d.status === 'pending' ? null : (
                  <button type="button" disabled={action.busy} onClick={() => redeliver(d)}>
                    Redeliver
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}
