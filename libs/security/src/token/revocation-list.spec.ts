import type { AccessTokenClaims } from '../contract/access-token.claims';
import {
  parseRevocationEvent,
  REVOCATION_RETENTION_SECONDS,
  RevocationList,
  STORED_MESSAGE_RETENTION_SECONDS,
} from './revocation-list';

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

  // A NATS message is verified at the time the broker stored it, and waits up to a week: a
  // revoked client's token (or a revoked events token) on a message stored after the
  // revocation must still be refused when the message is consumed days later.
  it('keeps a client revocation as long as a stream keeps a message, a user revocation not', () => {
    let now = T;
    const list = new RevocationList(() => now);
    list.add({ type: 'client', clientId: 'orders', at: T });
    list.add({ type: 'sub', sub: 'user-1', at: T });
    const service = claims({ sub: 'orders', client_id: 'orders', sid: undefined, iat: T - 60 });
    now = T + REVOCATION_RETENTION_SECONDS + 1;
    list.prune();
    expect(list.isRevoked(service)).toBe(true);
    expect(list.isRevoked(claims({ iat: T - 60 }))).toBe(false);
    now = T + REVOCATION_RETENTION_SECONDS + STORED_MESSAGE_RETENTION_SECONDS - 1;
    list.prune();
    expect(list.isRevoked(service)).toBe(true);
    now += 2;
    list.prune();
    expect(list.isRevoked(service)).toBe(false);
    expect(list.size).toBe(0);
  });

  it('keeps a revoked events token a stream message age past its expiry, another token only to it', () => {
    let now = T;
    const list = new RevocationList(() => now);
    list.add({ type: 'jti', jti: 'events-1', exp: T + 900, at: T, signsEvents: true });
    list.add({ type: 'jti', jti: 'users-1', exp: T + 900, at: T });
    now = T + 900 + 31;
    list.prune();
    expect(list.isRevoked(claims({ jti: 'events-1' }))).toBe(true);
    expect(list.isRevoked(claims({ jti: 'users-1', sid: undefined }))).toBe(false);
    now = T + 900 + 30 + STORED_MESSAGE_RETENTION_SECONDS + 1;
    list.prune();
    expect(list.size).toBe(0);
  });

  it('reads signsEvents: true; any other value still revokes, for the usual time', () => {
    const base = { type: 'jti', jti: 'x', exp: T, at: T };
    expect(parseRevocationEvent({ ...base, signsEvents: true })).toEqual({
      ...base,
      signsEvents: true,
    });
    expect(parseRevocationEvent(base)).toEqual(base);
    expect(parseRevocationEvent({ ...base, signsEvents: 'true' })).toEqual(base);
    expect(parseRevocationEvent({ ...base, signsEvents: null })).toEqual(base);
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
