/** Human output: aligned tables, key/value blocks, sizes, durations, ages and coloured states. */
import type { Colors } from 'picocolors/types';
import { out, type Io } from './io.ts';

const ANSI = /\x1b\[[0-9;]*m/g;

/** The width of `text` on a terminal, colour codes left out. */
export function visibleLength(text: string): number {
  return text.replace(ANSI, '').length;
}

/** Rows as columns aligned under bold upper-case headers, two spaces apart, no trailing spaces. */
export function table(headers: string[], rows: string[][], c: Colors): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => visibleLength(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell + ' '.repeat(widths[i]! - visibleLength(cell))))
      .join('  ')
      .trimEnd();
  return [c.bold(line(headers.map((h) => h.toUpperCase()))), ...rows.map(line)].join('\n');
}

/** Prints a table, or `empty` (on stdout too, so a pipe sees something) when there are no rows. */
export function printTable(io: Io, c: Colors, headers: string[], rows: string[][], empty: string): void {
  out(io, rows.length === 0 ? empty : table(headers, rows, c));
}

/** `key: value` lines with the values aligned. */
export function keyValues(pairs: [string, string][], c: Colors): string {
  const width = Math.max(...pairs.map(([k]) => k.length)) + 1;
  return pairs.map(([k, v]) => `${c.dim(`${k}:`.padEnd(width))} ${v}`.trimEnd()).join('\n');
}

/** Prints `value` as indented JSON, for --json. */
export function printJson(io: Io, value: unknown): void {
  out(io, JSON.stringify(value, null, 2));
}

/** 1536 → "1.5 KiB". */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** 1234 → "1.2 s", 125000 → "2m 5s", 7500000 → "2h 5m". */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

/** How long ago `iso` was, relative to `now`: "just now", "42s ago", "5m ago", "3h ago", "2d ago". */
export function ago(iso: string | null, now: number): string {
  if (!iso) return '-';
  const s = Math.floor((now - Date.parse(iso)) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}

/** A deployment or project state in its colour: green when serving, red when failed, yellow in between. */
export function state(status: string, c: Colors): string {
  switch (status) {
    case 'live':
    case 'running':
    case 'ok':
    case 'ready':
      return c.green(status);
    case 'failed':
    case 'error':
      return c.red(status);
    case 'queued':
    case 'building':
    case 'deploying':
    case 'stopped':
    case 'degraded':
    case 'creating':
    case 'provisioning':
      return c.yellow(status);
    default:
      return c.dim(status);
  }
}

/** A nullable value for a table cell: "-" for null or undefined. */
export function cell(value: string | number | null | undefined): string {
  return value === null || value === undefined ? '-' : String(value);
}
