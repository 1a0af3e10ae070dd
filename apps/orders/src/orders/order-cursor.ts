import { ApiError } from '@app/platform';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// A JS Date reaches 271821 BC, PostgreSQL's timestamptz only 4713 BC: a forged time outside
// the years orders are placed in would reach SQL and fail there (500), so it is refused here.
const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** Keyset cursor of GET /orders: the (created_at, id) of the last order of a page, opaque to clients. */
export function encodeCursor(order: { createdAt: Date; id: string }): string {
  return Buffer.from(JSON.stringify([order.createdAt.toISOString(), order.id])).toString(
    'base64url',
  );
}

export function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2) {
      const [iso, id] = value as unknown[];
      const createdAt = new Date(typeof iso === 'string' ? iso : Number.NaN);
      const time = createdAt.getTime(); // NaN for an unparseable date, which is in no range
      if (time >= EARLIEST && time <= LATEST && typeof id === 'string' && UUID.test(id)) {
        return { createdAt, id };
      }
    }
  } catch {
    // fall through: any undecodable cursor is the client's error
  }
  throw new ApiError(400, 'cursor is malformed');
}
