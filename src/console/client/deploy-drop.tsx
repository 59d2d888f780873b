/** Deploy by dropping a .zip or .tar.gz on the page (or choosing it): uploads with progress, then opens its log. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { CSRF_HEADERS, failure, seg } from './api.ts';
import { navigate } from './router.ts';
import { ErrorNote } from './ui.tsx';

function contentType(file: File): string | null {
  const n = file.name.toLowerCase();
  if (n.endsWith('.zip')) return 'application/zip';
  if (n.endsWith('.tar.gz') || n.endsWith('.tgz')) return 'application/gzip';
  if (n.endsWith('.tar')) return 'application/x-tar';
  return null;
}

export function DeployDrop({ project }: { project: string }) {
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  const upload = (file: File) => {
    const type = contentType(file);
    if (!type) return setError(new Error(`Cannot deploy "${file.name}": drop a .zip, .tar.gz or .tar archive`));
    setError(null);
    setProgress(0);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/v1/projects/${seg(project)}/deployments`);
    xhr.setRequestHeader('content-type', type);
    for (const [k, v] of Object.entries(CSRF_HEADERS)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => e.lengthComputable && setProgress(e.loaded / e.total);
    xhr.onerror = () => {
      setProgress(null);
      setError(new Error('The upload failed: the API could not be reached'));
    };
    xhr.onload = async () => {
      setProgress(null);
      const res = new Response(xhr.responseText, {
        status: xhr.status,
        headers: { 'x-request-id': xhr.getResponseHeader('x-request-id') ?? '' },
      });
      if (xhr.status !== 202) return setError(await failure(res));
      const d = (await res.json()) as { id: string };
      navigate(`/console/projects/${seg(project)}/deployments/${seg(d.id)}`);
    };
    xhr.send(file);
  };

  // The whole page is a drop target while this is shown.
  useEffect(() => {
    const prevent = (e: DragEvent) => {
      e.preventDefault();
      setOver(e.type === 'dragover');
    };
    const drop = (e: DragEvent) => {
      e.preventDefault();
      setOver(false);
      const file = e.dataTransfer?.files[0];
      if (file) upload(file);
    };
    document.addEventListener('dragover', prevent);
    document.addEventListener('dragleave', prevent);
    document.addEventListener('drop', drop);
    return () => {
      document.removeEventListener('dragover', prevent);
      document.removeEventListener('dragleave', prevent);
      document.removeEventListener('drop', drop);
    };
  });

  return (
    <div class={`drop${over ? ' over' : ''}`} data-testid="deploy-drop">
      <p>
        Drop a <code>.zip</code> or <code>.tar.gz</code> of the app's source anywhere on this page to deploy it, or{' '}
        <button type="button" onClick={() => input.current?.click()}>
          choose an archive
        </button>
      </p>
      <input
        ref={input}
        type="file"
        class="hidden"
        aria-label="Source archive"
        accept=".zip,.tar.gz,.tgz,.tar"
        onChange={(e) => {
          const file = (e.target as HTMLInputElement).files?.[0];
          if (file) upload(file);
        }}
      />
      {progress !== null ? (
        <div class="progress">
          <label for="upload-progress">Uploading</label>
          <progress id="upload-progress" max={1} value={progress} />
          <span>{Math.round(progress * 100)}%</span>
        </div>
      ) : null}
      <ErrorNote error={error} />
    </div>
  );
}
