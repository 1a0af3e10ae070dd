import { ApiError } from '../errors/api-error';

/** Position after a row in `ORDER BY <time>, id` (either direction): the last row of a page. */
export interface KeysetPosition {
  at: Date;
  id: string;
}

export interface KeysetCursorOptions {
  /** Message of the 400 for a cursor that is refused. Default: `cursor is malformed`. */
  message?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// A JS Date reaches 271821 BC, PostgreSQL's timestamptz only 4713 BC: a forged time outside
// the years rows are written in would reach SQL and fail there (500), so it is refused here.
const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * Opaque to clients (base64url JSON of `[isoTime, id]`), but not a secret and not signed: a
 * forged cursor only moves where a page starts. Which rows the caller may see is decided in
 * SQL on every page, never by the cursor. Issued cursors live in clients, so the format is
 * frozen: changing it breaks every page link already handed out.
 *
 * @example
 * nextCursor: last ? encodeKeysetCursor({ at: last.createdAt, id: last.id }) : null
 */
export function encodeKeysetCursor(position: KeysetPosition): string {
  return Buffer.from(JSON.stringify([position.at.toISOString(), position.id])).toString(
    'base64url',
  );
}

/**
 * Reads a cursor of {@link encodeKeysetCursor}. Anything else (not base64url JSON, not a
 * `[time, uuid]` pair, a time outside 1970..9999) is one HTTP 400 `BAD_REQUEST`, so a client
 * learns nothing from which check failed.
 *
 * @example
 * const after = decodeKeysetCursor(query.cursor, { message: 'cursor is invalid' });
 * qb.where('(o.created_at, o.id) < (:at, :id)', after);
 */
export function decodeKeysetCursor(
  cursor: string,
  options: KeysetCursorOptions = {},
): KeysetPosition {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(decoded) && decoded.length === 2) {
      const [iso, id] = decoded as unknown[];
      const at = new Date(typeof iso === 'string' ? iso : Number.NaN);
      const time = at.getTime(); // NaN for an unparseable date, which is in no range
      if (time >= EARLIEST && time <= LATEST && typeof id === 'string' && UUID.test(id)) {
        return { at, id };
      }
    }
  } catch {
    // Not base64url JSON: same answer as any other malformed cursor.
  }
  throw new ApiError(400, options.message ?? 'cursor is malformed');
}
