/**
 * Audience of a user's login token. SPEC §3 says ["users", "orders"]; auth's own user
 * endpoints (/auth/password, /auth/mfa/*) need a token too. They get "auth" in the audience
 * rather than accepting tokens whose audience is another service: a resource server that
 * accepts tokens minted for someone else is open to audience confusion (RFC 9068 §4,
 * RFC 8707 §1): a token leaked by, or replayed from, users or orders would work against auth.
 */
export const USER_TOKEN_AUDIENCE = ['users', 'orders', 'auth'] as const;

/** The audience auth itself accepts. */
export const AUTH_AUDIENCE = 'auth';

/** `client_id` of tokens issued by /auth/login: the first-party web client (public, no secret). */
export const USER_TOKEN_CLIENT_ID = 'web';

/**
 * What a logged-in user may ask of the resource servers; their own rules (roles, CASL) then
 * decide per object. A token exchanged for a service never carries more than this (RFC 8693 §5).
 */
export const USER_TOKEN_SCOPE = 'users:read users:write orders:read orders:write';

/** Client id of auth's own event tokens (NATS). */
export const AUTH_CLIENT_ID = 'auth';
