/** CPU, memory and network of each live container, sampled every few seconds and drawn as small charts. */
import { useEffect, useState } from 'preact/hooks';
import { api, seg } from './api.ts';
import type { Metric } from './types.ts';
import { bytes, ErrorNote, Section } from './ui.tsx';

const SAMPLES = 40;
const EVERY_MS = 5000;

interface Sample {
  at: number;
  data: Metric[];
}

export function MetricsTab({ project }: { project: string }) {
  const [samples, setSamples] = useState<Sample[]>([]);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // One request at a time: a slow Docker never piles requests up, and the page stays usable meanwhile.
    const poll = async () => {
      try {
        const res = await api<{ data: Metric[] }>('GET', `/v1/projects/${seg(project)}/metrics`);
        if (live) setSamples((s) => [...s.slice(-(SAMPLES - 1)), { at: Date.now(), data: res.data }]);
        setError(null);
      } catch (e) {
        if (live) setError(e);
      }
      if (live) timer = setTimeout(poll, EVERY_MS);
    };
    void poll();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [project]);
  const instances = [...new Set(samples.flatMap((s) => s.data.map((m) => m.instance)))].sort();
  const series = (instance: string, pick: (m: Metric) => number) =>
    samples.map((s) => s.data.find((m) => m.instance === instance)).map((m) => (m ? pick(m) : null));
  return (
    <Section title="Metrics">
      <ErrorNote error={error} />
      {samples.length === 0 && !error ? <p>Sampling…</p> : null}
      {samples.length > 0 && instances.length === 0 ? <p>No live containers.</p> : null}
      {instances.map((instance) => {
        const last = samples.at(-1)?.data.find((m) => m.instance === instance);
        return (
          <article class="card" key={instance} aria-label={`Instance ${instance}`}>
            <h3>{instance}</h3>
            <div class="charts">
              <Chart
                title="CPU"
                unit={`${last?.cpu_percent.toFixed(1) ?? '—'} %`}
                values={series(instance, (m) => m.cpu_percent)}
              />
              <Chart title="Memory" unit={bytes(last?.memory_bytes)} values={series(instance, (m) => m.memory_bytes)} />
              <Chart
                title="Network in"
                unit={bytes(last?.network_rx_bytes)}
                values={series(instance, (m) => m.network_rx_bytes)}
              />
              <Chart
                title="Network out"
                unit={bytes(last?.network_tx_bytes)}
                values={series(instance, (m) => m.network_tx_bytes)}
              />
            </div>
          </article>
        );
      })}
    </Section>
  );
}

/** A sparkline of the last samples, scaled to its own maximum. */
function Chart({ title, unit, values }: { title: string; unit: string; values: (number | null)[] }) {
  const w = 200;
  const h = 48;
  const max = Math.max(1e-9, ...values.map((v) => v ?? 0));
  const step = w / Math.max(1, SAMPLES - 1);
  const points = values
    .map((v, i) => (v === null ? null : `${(i * step).toFixed(1)},${(h - (v / max) * (h - 2) - 1).toFixed(1)}`))
    .filter(Boolean)
    .join(' ');
  return (
    <figure class="chart">
      <figcaption>
        {title}: <strong>{unit}</strong>
      </figcaption>
      <svg viewBox={`0 0 ${w} ${h}`} width={w} height={h} role="img" aria-label={`${title}, latest ${unit}`}>
        <polyline points={points} fill="none" stroke="currentColor" stroke-width="1.5" />
      </svg>
    </figure>
  );
}
