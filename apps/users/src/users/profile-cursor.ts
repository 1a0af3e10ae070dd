import { ApiError } from '@app/platform';

/** Position after a row in `ORDER BY created_at, id`. */
export interface ProfileCursor {
  createdAt: Date;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// A JS Date reaches 271821 BC, PostgreSQL's timestamptz only 4713 BC: a forged time outside
// the years profiles are created in would reach SQL and fail there (500), so it is refused here.
const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * Opaque to clients (base64url JSON), but not a secret and not signed: a forged cursor only
 * moves where the page starts. Which rows exist for the caller is decided in SQL by their
 * abilities on every page, never by the cursor.
 */
export function encodeCursor(cursor: ProfileCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt.toISOString(), cursor.id])).toString(
    'base64url',
  );
}

export function decodeCursor(value: string): ProfileCursor {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
    if (Array.isArray(decoded) && decoded.length === 2) {
      const [createdAt, id] = decoded as unknown[];
      const date = typeof createdAt === 'string' ? new Date(createdAt) : new Date(NaN);
      const time = date.getTime(); // NaN for an unparseable date, which is in no range
      if (time >= EARLIEST && time <= LATEST && typeof id === 'string' && UUID.test(id)) {
        return { createdAt: date, id };
      }
    }
  } catch {
    // Not base64url JSON: same answer as any other malformed cursor.
  }
  throw new ApiError(400, 'cursor is invalid');
}
