/**
 * The access-token contract between auth (which signs) and every resource server (which
 * verifies). RFC 9068 JWT profile; SPEC §3.
 */

/** RFC 9068 §2.1: the JOSE header `typ` of an access token. */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

/** Asymmetric algorithms a verifier may accept. Never HS*, never none. */
export const ALLOWED_ALGORITHMS = ['ES256', 'RS256', 'EdDSA'] as const;
export type AllowedAlgorithm = (typeof ALLOWED_ALGORITHMS)[number];

/** Lifetimes (seconds). */
export const USER_ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
export const SERVICE_ACCESS_TOKEN_TTL_SECONDS = 5 * 60;
/** The longest lifetime (exp - iat) any access token of this issuer has. */
export const MAX_ACCESS_TOKEN_TTL_SECONDS = Math.max(
  USER_ACCESS_TOKEN_TTL_SECONDS,
  SERVICE_ACCESS_TOKEN_TTL_SECONDS,
);
/** Verifier clock tolerance (seconds); SPEC §3 caps it at 30. */
export const CLOCK_TOLERANCE_SECONDS = 30;

/** Audience of tokens that authenticate NATS messages (every consumer of an event accepts it). */
export const EVENTS_AUDIENCE = 'events';
/** Scope a service token needs to publish events. */
export const EVENTS_PUBLISH_SCOPE = 'events:publish';

export type Role = 'customer' | 'support' | 'admin';
export const ROLES: readonly Role[] = ['customer', 'support', 'admin'];

/** Claims common to every access token. */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  nbf?: number;
  jti: string;
  client_id: string;
  /** Space-separated (RFC 8693 §4.2 / RFC 9068 §2.2.3). */
  scope: string;
  /** User tokens and tokens exchanged for a user. */
  roles?: Role[];
  region?: string;
  /** Refresh-token family of the login session (user tokens). */
  sid?: string;
  auth_time?: number;
  amr?: string[];
  /** RFC 8693 §4.1: the service acting for the user. */
  act?: { sub: string };
}

/**
 * Which client may publish which subjects: a service publishes only under its own prefix
 * (SPEC §5). The consumer side checks the token's `client_id` against this.
 */
export const SUBJECT_PUBLISHERS: Readonly<Record<string, string>> = {
  'auth.': 'auth',
  'users.': 'users',
  'orders.': 'orders',
};

export function publisherOf(subject: string): string | undefined {
  for (const [prefix, clientId] of Object.entries(SUBJECT_PUBLISHERS)) {
    if (subject.startsWith(prefix)) return clientId;
  }
  return undefined;
}

/**
 * Whether a token can sign a NATS message a consumer accepts (SPEC §5): a client-credentials
 * token (no `roles`, no `act`) for audience `events` with scope `events:publish`, of a client
 * that owns a subject prefix. Only such a token's revocation must outlive its expiry.
 */
export function maySignEvents(claims: AccessTokenClaims): boolean {
  const audiences = typeof claims.aud === 'string' ? [claims.aud] : claims.aud;
  return (
    !claims.roles &&
    !claims.act &&
    audiences.includes(EVENTS_AUDIENCE) &&
    claims.scope.split(' ').includes(EVENTS_PUBLISH_SCOPE) &&
    Object.values(SUBJECT_PUBLISHERS).includes(claims.client_id)
  );
}
