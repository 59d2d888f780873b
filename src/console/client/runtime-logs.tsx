/** The live instances' output, following over Server-Sent Events (and across redeploys). */
import { useEffect, useRef, useState } from 'preact/hooks';
import { seg } from './api.ts';
import type { LogLine } from './types.ts';
import { Section } from './ui.tsx';

const KEEP = 2000;

export function RuntimeLogs({ project }: { project: string }) {
  const [lines, setLines] = useState<LogLine[]>([]);
  const [state, setState] = useState('Connecting…');
  const box = useRef<HTMLPreElement>(null);
  useEffect(() => {
    const source = new EventSource(`/v1/projects/${seg(project)}/logs?follow=true&tail=200`);
    source.onopen = () => setState('Following');
    source.onmessage = (e) => {
      const line = JSON.parse(e.data) as LogLine;
      setLines((l) => [...l.slice(-(KEEP - 1)), line]);
    };
    source.onerror = (e) => {
      // The API reports a failure while following as an event named "error" with a message.
      const message = e instanceof MessageEvent && typeof e.data === 'string' ? JSON.parse(e.data).message : null;
      if (message) return setState(`Stopped: ${message}`);
      setState(source.readyState === EventSource.CLOSED ? 'Stopped' : 'Reconnecting…');
    };
    return () => source.close();
  }, [project]);
  useEffect(() => {
    const el = box.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [lines]);
  return (
    <Section title="Runtime logs">
      <p aria-live="polite">{state}</p>
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling log must be reachable by keyboard to scroll it */}
      <pre class="log" ref={box} role="log" tabIndex={0} aria-label="Runtime log">
        {lines
          .map((l) => `${l.time.slice(11, 19)} ${l.instance} ${l.stream === 'stderr' ? '!' : ' '} ${l.line}`)
          .join('\n')}
      </pre>
    </Section>
  );
}
