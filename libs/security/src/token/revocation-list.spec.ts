import type { AccessTokenClaims } from '../contract/access-token.claims';
import { parseRevocationEvent, RevocationList } from './revocation-list';

const T = 1_764_000_000;
const claims = (overrides: Partial<AccessTokenClaims> = {}): AccessTokenClaims => ({
  iss: 'i',
  sub: 'user-1',
  aud: 'users',
  exp: T + 900,
  iat: T,
  jti: 'jti-1',
  client_id: 'web',
  scope: '',
  sid: 'sid-1',
  ...overrides,
});

describe('RevocationList', () => {
  it('revokes one token by jti', () => {
    const list = new RevocationList(() => T);
    list.add({ type: 'jti', jti: 'jti-1', exp: T + 900, at: T });
    expect(list.isRevoked(claims())).toBe(true);
    expect(list.isRevoked(claims({ jti: 'jti-2' }))).toBe(false);
  });

  it('revokes every token of a session family, even one issued after the revocation', () => {
    const list = new RevocationList(() => T);
    list.add({ type: 'sid', sid: 'sid-1', at: T });
    expect(list.isRevoked(claims({ iat: T }))).toBe(true);
    // A refresh that raced the revocation: its token is issued after `at`.
    expect(list.isRevoked(claims({ iat: T + 2 }))).toBe(true);
    expect(list.isRevoked(claims({ sid: 'sid-2' }))).toBe(false);
  });

  it("revokes a user's tokens issued before T", () => {
    const list = new RevocationList(() => T);
    list.add({ type: 'sub', sub: 'user-1', at: T + 10 });
    expect(list.isRevoked(claims({ iat: T + 9 }))).toBe(true);
    expect(list.isRevoked(claims({ iat: T + 10 }))).toBe(false);
  });

  it("revokes a client's tokens issued before T", () => {
    const list = new RevocationList(() => T);
    list.add({ type: 'client', clientId: 'web', at: T + 10 });
    expect(list.isRevoked(claims())).toBe(true);
  });

  it('forgets entries once every token they cover has expired', () => {
    let now = T;
    const list = new RevocationList(() => now);
    list.add({ type: 'sub', sub: 'user-1', at: T });
    list.add({ type: 'jti', jti: 'jti-9', exp: T + 60, at: T });
    now = T + 15 * 60 + 31;
    list.prune();
    expect(list.size).toBe(0);
  });

  it.each([
    [{ type: 'sub', sub: 'x' }],
    [{ type: 'sub', sub: 5, at: T }],
    [{ type: 'jti', jti: 'x', at: T }],
    [{ type: 'all', at: T }],
    [null],
    ['sub'],
  ])('refuses a malformed revocation event %p', (event) => {
    expect(parseRevocationEvent(event)).toBeNull();
  });
});
