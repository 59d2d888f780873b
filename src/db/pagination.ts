import { BadRequestError } from '../errors.ts';

/** Keyset pagination shared by every list: opaque cursors and the `limit + 1` probe. */

/** A page of rows and the cursor that continues after it. */
export interface Page<T> {
  data: T[];
  pagination: { next_cursor: string | null; has_more: boolean };
}

/**
 * Encodes the sort key of the last row shown into an opaque cursor for `list`, a name for one
 * listing (`tokens`, `deployments:<project id>`): a cursor is only good for the list it came from.
 */
export function encodeCursor(list: string, key: string | number): string {
  return Buffer.from(JSON.stringify({ l: list, k: key })).toString('base64url');
}

/**
 * Decodes a cursor that encodeCursor made for `list` with a key of type `type`. Anything else
 * (a made-up cursor, one from another list) is a 400, never a silent restart of the listing.
 */
export function decodeCursor(list: string, cursor: string | undefined, type: 'number'): number | undefined;
export function decodeCursor(list: string, cursor: string | undefined, type: 'string'): string | undefined;
export function decodeCursor(
  list: string,
  cursor: string | undefined,
  type: 'number' | 'string',
): string | number | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  let parsed: { l?: unknown; k?: unknown } | null = null;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = null;
  }
  if (parsed === null || typeof parsed !== 'object' || typeof parsed.k !== type) {
    throw new BadRequestError('Invalid cursor: pass the next_cursor of a previous page as it was');
  }
  if (parsed.l !== list) throw new BadRequestError('Invalid cursor: it belongs to another list');
  return parsed.k as string | number;
}

/**
 * Turns `limit + 1` rows fetched past the cursor into a page: the extra row only proves
 * there is more. Because the cursor is the last row's key, rows inserted meanwhile never
 * shift or repeat what the next page shows.
 */
export function toPage<T>(rows: T[], limit: number, keyOf: (row: T) => string | number, list: string): Page<T> {
  const hasMore = rows.length > limit;
  const data = hasMore ? rows.slice(0, limit) : rows;
  const last = data[data.length - 1];
  return {
    data,
    pagination: { next_cursor: hasMore && last ? encodeCursor(list, keyOf(last)) : null, has_more: hasMore },
  };
}
