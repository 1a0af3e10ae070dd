import { ApiError } from '../errors/api-error';
import { decodeKeysetCursor, encodeKeysetCursor, type KeysetCursorOptions } from './keyset-cursor';

const ID = '00000000-0000-4000-8000-000000000000';
const encoded = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const forged = (time: string) => encoded([time, ID]);

/** The HTTP answer decodeKeysetCursor gives a cursor it refuses. */
function refusal(
  cursor: string,
  options?: KeysetCursorOptions,
): { status: number; code: string; message: string } | undefined {
  try {
    decodeKeysetCursor(cursor, options);
  } catch (error) {
    if (error instanceof ApiError) {
      return { status: error.getStatus(), code: error.code, message: error.message };
    }
    throw error;
  }
  return undefined;
}

const MALFORMED = { status: 400, code: 'BAD_REQUEST', message: 'cursor is malformed' };

describe('keyset cursor', () => {
  it('reads back the position it encoded', () => {
    const at = new Date('2024-05-06T07:08:09.123Z');
    expect(decodeKeysetCursor(encodeKeysetCursor({ at, id: ID }))).toEqual({ at, id: ID });
  });

  // Cursors already handed to clients by GET /orders and GET /users must keep working.
  it('keeps the format of cursors already issued', () => {
    const issued =
      'WyIyMDI0LTA1LTA2VDA3OjA4OjA5LjEyM1oiLCIwMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMDAiXQ';
    const at = new Date('2024-05-06T07:08:09.123Z');
    expect(encodeKeysetCursor({ at, id: ID })).toBe(issued);
    expect(decodeKeysetCursor(issued)).toEqual({ at, id: ID });
  });

  it('accepts times from 1970 through the year 9999', () => {
    for (const time of ['1970-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z']) {
      expect(decodeKeysetCursor(forged(time)).at.toISOString()).toBe(time);
    }
  });

  it.each([
    '-005000-01-01T00:00:00.000Z',
    '1969-12-31T23:59:59.999Z',
    '+010000-01-01T00:00:00.000Z',
  ])('refuses a cursor at %s with the 400 an unreadable cursor gets', (time) => {
    expect(refusal(forged(time))).toEqual(MALFORMED);
    expect(refusal('%%%')).toEqual(MALFORMED);
  });

  it.each([
    ['not base64url JSON', '%%%'],
    ['base64url of a non-JSON text', 'bm90LWpzb24'],
    ['an object instead of a pair', encoded({ at: '2024-05-06T07:08:09.123Z', id: ID })],
    ['a pair of non-dates', encoded(['x', 'y'])],
    ['three elements', encoded(['2024-05-06T07:08:09.123Z', ID, 'extra'])],
    ['a numeric time', encoded([Date.UTC(2024, 4, 6), ID])],
    ['an id that is not a UUID', encoded(['2024-05-06T07:08:09.123Z', 'not-a-uuid'])],
    ['a numeric id', encoded(['2024-05-06T07:08:09.123Z', 42])],
  ])('refuses %s with the same 400', (_, cursor) => {
    expect(refusal(cursor)).toEqual(MALFORMED);
  });

  it('refuses with the message the service chose', () => {
    const invalid = { ...MALFORMED, message: 'cursor is invalid' };
    expect(refusal(forged('1969-12-31T23:59:59.999Z'), { message: 'cursor is invalid' })).toEqual(
      invalid,
    );
    expect(refusal('%%%', { message: 'cursor is invalid' })).toEqual(invalid);
  });
});
