/** Custom domains: their status, the DNS records to create, and the certificate. */
import { useState } from 'preact/hooks';
import { api, listAll, seg } from './api.ts';
import type { Domain, Me } from './types.ts';
import { ErrorNote, Section, Status, useAction, useLoad } from './ui.tsx';

export function DomainsTab({ project, me }: { project: string; me: Me }) {
  const path = `/v1/projects/${seg(project)}/domains`;
  const { data, error, reload } = useLoad(() => listAll<Domain>(path), [path]);
  const [hostname, setHostname] = useState('');
  const action = useAction();
  const mayEdit = me.scope !== 'read';
  const call = (method: string, url: string, body?: unknown) =>
    action.run(async () => {
      await api(method, url, body);
      reload();
    });
  return (
    <Section title="Domains">
      <ErrorNote error={error ?? action.error} />
      {data && data.length === 0 ? <p>No custom domains.</p> : null}
      {data?.map((d) => (
        <DomainCard key={d.hostname} d={d} mayEdit={mayEdit} busy={action.busy} call={call} path={path} />
      ))}
      {mayEdit ? (
        <form
          class="inline"
          onSubmit={(e) => {
            e.preventDefault();
            void call('POST', path, { hostname }).then(() => setHostname(''));
          }}
        >
          <label for="domain">Add a domain</label>
          <input
            id="domain"
            required
            placeholder="shop.example.com"
            value={hostname}
            onInput={(e) => setHostname((e.target as HTMLInputElement).value)}
          />
          <button type="submit" disabled={action.busy}>
            Add
          </button>
        </form>
      ) : null}
    </Section>
  );
}

type Call = (method: string, url: string, body?: unknown) => Promise<void>;

/** One domain: its status, certificate, the DNS records to create, and its actions. */
function DomainCard(props: { d: Domain; mayEdit: boolean; busy: boolean; call: Call; path: string }) {
  const { d, mayEdit, busy, call, path } = props;
  return (
    <article class="card" aria-label={d.hostname}>
      <h3>
        {d.hostname} <Status status={d.status} />
      </h3>
      {d.reason ? <p class="reason">{d.reason}</p> : null}
      <p>
        Certificate:{' '}
        {d.certificate
          ? `${d.certificate.source}, from ${d.certificate.issuer}, valid until ${d.certificate.not_after.slice(0, 10)}`
          : 'none yet'}
      </p>
      {d.dns_records.length > 0 ? (
        <table>
          <caption>DNS records to create</caption>
          <thead>
            <tr>
              <th scope="col">Type</th>
              <th scope="col">Name</th>
              <th scope="col">Value</th>
            </tr>
          </thead>
          <tbody>
            {d.dns_records.map((r) => (
              <tr key={`${r.type}${r.name}${r.value}`}>
                <td>{r.type}</td>
                <td>
                  <code>{r.name}</code>
                </td>
                <td>
                  <code>{r.value}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {mayEdit ? (
        <div class="actions">
          <button type="button" disabled={busy} onClick={() => call('POST', `${path}/${seg(d.hostname)}/verify`)}>
            Check {d.hostname} now
          </button>
          <button
            type="button"
            disabled={busy}
            onClick={() => confirm(`Remove ${d.hostname}?`) && call('DELETE', `${path}/${seg(d.hostname)}`)}
          >
            Remove {d.hostname}
          </button>
        </div>
      ) : null}
    </article>
  );
}
