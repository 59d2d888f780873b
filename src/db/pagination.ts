import { BadRequestError } from '../errors.ts';

/** Keyset pagination shared by every list: opaque cursors and the `limit + 1` probe. */

/** A page of rows and the cursor that continues after it. */
export interface Page<T> {
  data: T[];
  pagination: { next_cursor: string | null; has_more: boolean };
}

/** Encodes the sort key of the last row shown into an opaque cursor. */
export function encodeCursor(key: string | number): string {
  return Buffer.from(JSON.stringify({ k: key })).toString('base64url');
}

/** Decodes a cursor made by encodeCursor; anything else is a 400, never a silent restart. */
export function decodeCursor(cursor: string | undefined): string | number | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))?.k;
  } catch {
    key = undefined;
  }
  if (typeof key === 'string' || typeof key === 'number') return key;
  throw new BadRequestError('Invalid cursor: pass the next_cursor of a previous page as it was');
}

/**
 * Turns `limit + 1` rows fetched past the cursor into a page: the extra row only proves
 * there is more. Because the cursor is the last row's key, rows inserted meanwhile never
 * shift or repeat what the next page shows.
 */
export function toPage<T>(rows: T[], limit: number, keyOf: (row: T) => string | number): Page<T> {
  const hasMore = rows.length > limit;
  const data = hasMore ? rows.slice(0, limit) : rows;
  const last = data[data.length - 1];
  return {
    data,
    pagination: { next_cursor: hasMore && last ? encodeCursor(keyOf(last)) : null, has_more: hasMore },
  };
}
