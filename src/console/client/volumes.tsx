/** A project's volumes: name, mount path, size, and (admin tokens) each one's tar to download or restore from. */
import { useState } from 'preact/hooks';
import { ApiError, api, CSRF_HEADERS, failure, seg } from './api.ts';
import type { Me, Volume } from './types.ts';
import { ago, bytes, ErrorNote, Section, useAction, useLoad } from './ui.tsx';

export function VolumesTab({ project, me }: { project: string; me: Me }) {
  const { data, error, reload } = useLoad(async () => {
    const [list, view] = await Promise.all([
      api<{ data: Volume[] }>('GET', `/v1/projects/${seg(project)}/volumes`),
      api<{ volumes_size_bytes: number | null }>('GET', `/v1/projects/${seg(project)}`),
    ]);
    return { volumes: list.data, total: view.volumes_size_bytes };
  }, [project]);
  const admin = me.scope === 'admin';
  return (
    <Section title="Volumes">
      <ErrorNote error={error} />
      {data ? (
        <p class="volumes-total">
          Volume size of the project: <strong>{bytes(data.total)}</strong>
        </p>
      ) : null}
      {data && data.volumes.length === 0 ? (
        <p>This project has no volumes. Set them in its settings (`slipway projects update --volume name:/path`).</p>
      ) : null}
      {data && data.volumes.length > 0 ? (
        <table class="volumes">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Mount path</th>
              <th scope="col">Size</th>
              <th scope="col">Limit</th>
              {admin ? <th scope="col">Archive</th> : null}
            </tr>
          </thead>
          <tbody>
            {data.volumes.map((v) => (
              <tr key={v.name}>
                <td>
                  <code>{v.name}</code>
                </td>
                <td>{v.mount_path ? <code>{v.mount_path}</code> : 'out of the setting (data kept)'}</td>
                <td title={v.measured_at ? `measured ${ago(v.measured_at)}` : 'not measured yet'}>
                  {v.created ? bytes(v.size_bytes) : 'not created yet'}
                </td>
                <td>{v.size_limit_bytes === null ? 'none' : bytes(v.size_limit_bytes)}</td>
                {admin ? (
                  <td>
                    {v.created ? (
                      // A plain link: the session cookie goes with a same-origin GET, the server names the file.
                      <>
                        <a href={`/v1/projects/${seg(project)}/volumes/${seg(v.name)}/archive`} download>
                          Download {v.name}
                        </a>
                        <Restore project={project} volume={v.name} onDone={reload} />
                      </>
                    ) : (
                      '—'
                    )}
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </Section>
  );
}

/** Replaces a volume's content with a chosen tar or tar.gz (the app restarts on it). */
function Restore({ project, volume, onDone }: { project: string; volume: string; onDone: () => void }) {
  const action = useAction();
  const [done, setDone] = useState(false);
  const restore = (file: File) =>
    confirm(`Replace everything in ${volume} with ${file.name}? The app restarts on it.`) &&
    action.run(async () => {
      setDone(false);
      const gz = /\.(tgz|gz)$/i.test(file.name);
      let res: Response;
      try {
        res = await fetch(`/v1/projects/${seg(project)}/volumes/${seg(volume)}/archive`, {
          method: 'PUT',
          headers: { ...CSRF_HEADERS, 'content-type': gz ? 'application/gzip' : 'application/x-tar' },
          body: file,
          credentials: 'same-origin',
        });
      } catch {
        throw new ApiError(0, 'network', 'Cannot reach the Slipway API', null);
      }
      if (!res.ok) throw await failure(res);
      setDone(true);
      onDone();
    });
  return (
    <div class="restore">
      <label for={`restore-${volume}`}>Restore {volume} from a tar</label>
      <input
        id={`restore-${volume}`}
        type="file"
        accept=".tar,.tar.gz,.tgz"
        disabled={action.busy}
        onChange={(e) => {
          const input = e.target as HTMLInputElement;
          const file = input.files?.[0];
          if (file) void restore(file);
          input.value = '';
        }}
      />
      {action.busy ? <span role="status">Restoring…</span> : null}
      {done ? <span role="status">Restored {volume}</span> : null}
      <ErrorNote error={action.error} />
    </div>
  );
}
