/**
 * Which lane read a request target is for, as Bun.serve's router would route it, but only where
 * that is beyond doubt: a target in origin form whose path segments are the read's literal ones and,
 * for its parameters, plain characters (letters, digits, `-`, `.`, `_`, `~`); the query is ignored,
 * as the router ignores it. Anything else (percent-escapes, empty or dot segments, a trailing slash,
 * a route that a parameter would swallow) is not matched, and goes to Bun.serve as it is.
 */
import type { LaneRead, LaneReads } from '../fast-lane/lane.ts';

/** A read and the decoded parameters of its path. */
export interface TargetMatch {
  read: LaneRead;
  params: Record<string, string>;
}

interface Pattern {
  /** The literal segments, with null where a parameter is. */
  segments: (string | null)[];
  names: (string | null)[];
  read: LaneRead | null;
}

const PLAIN = /^[A-Za-z0-9._~-]+$/;

function pattern(path: string, read: LaneRead | null): Pattern {
  const parts = path.split('/');
  return {
    segments: parts.map((p) => (p.startsWith(':') ? null : p)),
    names: parts.map((p) => (p.startsWith(':') ? p.slice(1) : null)),
    read,
  };
}

/** Targets remembered at most: the same few are asked for again and again (a CLI, a dashboard's poll). */
const REMEMBERED = 256;

/**
 * Matches request targets to the reads of `lane`. The last targets' matches are remembered, their
 * parameters frozen, since a read does not change them.
 */
export function targetMatcher(lane: LaneReads): (target: string) => TargetMatch | null {
  // Routes a read's parameter would swallow come first: a target matching one is not the lane's.
  const patterns = [...lane.handOn.map((p) => pattern(p, null)), ...lane.reads.map((r) => pattern(r.path, r.read))];
  const remembered = new Map<string, TargetMatch | null>();
  const match = (target: string): TargetMatch | null => {
    if (target.charCodeAt(0) !== 0x2f) return null;
    const q = target.indexOf('?');
    const parts = (q === -1 ? target : target.slice(0, q)).split('/');
    for (const p of patterns) {
      const params = matchSegments(p, parts);
      if (params) return p.read ? { read: p.read, params: Object.freeze(params) } : null;
    }
    return null;
  };
  return (target) => {
    let found = remembered.get(target);
    if (found === undefined) {
      found = match(target);
      if (remembered.size >= REMEMBERED) remembered.clear();
      remembered.set(target, found);
    }
    return found;
  };
}

function matchSegments(p: Pattern, parts: string[]): Record<string, string> | null {
  if (parts.length !== p.segments.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const literal = p.segments[i];
    const part = parts[i]!;
    if (literal !== null) {
      if (part !== literal) return null;
    } else {
      if (!PLAIN.test(part) || part === '.' || part === '..') return null;
      params[p.names[i]!] = part;
    }
  }
  return params;
}
