import type { FastifyRequest } from 'fastify';
import { readRefreshCookie, REFRESH_COOKIE_NAME } from './refresh-cookie';

const withCookie = (value: unknown) =>
  ({ cookies: { [REFRESH_COOKIE_NAME]: value } }) as unknown as FastifyRequest;

describe('readRefreshCookie', () => {
  const token = 'A'.repeat(20) + 'b_-9'.repeat(5) + 'xyz'; // 43 base64url characters

  it('reads a refresh token as auth issues them: 43 base64url characters (32 random bytes)', () => {
    expect(token).toHaveLength(43);
    expect(readRefreshCookie(withCookie(token))).toBe(token);
  });

  it('treats anything else as no cookie, so it never reaches hashing or the database', () => {
    for (const value of [
      token.slice(1), // 42
      `${token}A`, // 44
      `${token.slice(1)}.`, // a character outside base64url
      `${token.slice(1)}=`,
      'A'.repeat(100_000),
      '',
      [token],
      undefined,
    ]) {
      expect(readRefreshCookie(withCookie(value))).toBeUndefined();
    }
    expect(readRefreshCookie({} as FastifyRequest)).toBeUndefined();
  });
});
