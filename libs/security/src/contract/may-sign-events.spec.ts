import { maySignEvents, type AccessTokenClaims } from './access-token.claims';

const T = 1_764_000_000;
const eventsToken = (overrides: Partial<AccessTokenClaims> = {}): AccessTokenClaims => ({
  iss: 'i',
  sub: 'users',
  aud: 'events',
  exp: T + 900,
  iat: T,
  jti: 'j',
  client_id: 'users',
  scope: 'events:publish',
  ...overrides,
});

// Only such a token's revocation is kept (and replayed) for a week: any other would let a
// client grow every replica's deny-list by revoking its own tokens.
describe('maySignEvents', () => {
  it('is true for a publishing service token for events', () => {
    expect(maySignEvents(eventsToken())).toBe(true);
    expect(
      maySignEvents(eventsToken({ aud: ['orders', 'events'], scope: 'a events:publish' })),
    ).toBe(true);
  });

  it.each([
    ['another audience', { aud: 'orders' }],
    ['no events:publish scope', { scope: 'orders:read' }],
    ['a client owning no subject prefix', { sub: 'inventory', client_id: 'inventory' }],
    ['a user token', { roles: ['customer' as const], sub: 'user-1' }],
    ['a delegated token', { roles: ['customer' as const], sub: 'user-1', act: { sub: 'users' } }],
    ['a token with act and no roles', { act: { sub: 'users' } }],
  ])('is false for %s', (_name, overrides) => {
    expect(maySignEvents(eventsToken(overrides))).toBe(false);
  });
});
