import { ApiError } from '@app/platform';
import { decodeCursor, encodeCursor } from './order-cursor';

const ID = '00000000-0000-4000-8000-000000000000';
const forged = (time: string) => Buffer.from(JSON.stringify([time, ID])).toString('base64url');

/** The HTTP answer decodeCursor gives a cursor it refuses. */
function refusal(cursor: string): { status: number; message: string } | undefined {
  try {
    decodeCursor(cursor);
  } catch (error) {
    if (error instanceof ApiError) return { status: error.getStatus(), message: error.message };
    throw error;
  }
  return undefined;
}

describe('order cursor', () => {
  it('reads back the position it encoded', () => {
    const createdAt = new Date('2024-05-06T07:08:09.123Z');
    expect(decodeCursor(encodeCursor({ createdAt, id: ID }))).toEqual({ createdAt, id: ID });
  });

  it('accepts times from 1970 through the year 9999', () => {
    for (const time of ['1970-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z']) {
      expect(decodeCursor(forged(time)).createdAt.toISOString()).toBe(time);
    }
  });

  it.each([
    '-005000-01-01T00:00:00.000Z',
    '1969-12-31T23:59:59.999Z',
    '+010000-01-01T00:00:00.000Z',
  ])('refuses a cursor at %s with the 400 an unreadable cursor gets', (time) => {
    expect(refusal(forged(time))).toEqual({ status: 400, message: 'cursor is malformed' });
    expect(refusal('%%%')).toEqual({ status: 400, message: 'cursor is malformed' });
  });
});
