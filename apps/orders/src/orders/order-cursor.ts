import { ApiError } from '@app/platform';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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
      if (!Number.isNaN(createdAt.getTime()) && typeof id === 'string' && UUID.test(id)) {
        return { createdAt, id };
      }
    }
  } catch {
    // fall through: any undecodable cursor is the client's error
  }
  throw new ApiError(400, 'cursor is malformed');
}
