import type { Role } from '../contract/access-token.claims';

interface PrincipalBase {
  /** The OAuth client the token was issued to (`client_id`). */
  readonly clientId: string;
  /** Granted scopes (`scope`, space-separated in the token). */
  readonly scopes: readonly string[];
  /** `jti` */
  readonly tokenId: string;
  /** `exp`, seconds since the epoch. */
  readonly expiresAt: number;
  /** `iat`, seconds since the epoch. */
  readonly issuedAt: number;
}

interface UserFields {
  /** `sub`: the user's id. */
  readonly id: string;
  readonly roles: readonly Role[];
  readonly region: string | undefined;
  /** `sid`: the login session (refresh-token family). */
  readonly sessionId: string | undefined;
  /** `auth_time`, seconds since the epoch: when the user last authenticated. */
  readonly authTime: number | undefined;
  readonly amr: readonly string[];
}

/** A user calling with their own access token. */
export interface UserPrincipal extends PrincipalBase, UserFields {
  readonly kind: 'user';
}

/** A service calling for itself with a client-credentials token. */
export interface ServicePrincipal extends PrincipalBase {
  readonly kind: 'service';
}

/** A service acting for a user (RFC 8693 token exchange): the user's rights apply. */
export interface DelegatedPrincipal extends PrincipalBase, UserFields {
  readonly kind: 'delegated';
  /** `act.sub`: the client acting for the user. */
  readonly actor: { readonly clientId: string };
}

/** Who is calling, as established by a verified access token. */
export type Principal = UserPrincipal | ServicePrincipal | DelegatedPrincipal;

/** The principals that carry a user's identity and roles. */
export type UserLikePrincipal = UserPrincipal | DelegatedPrincipal;

export function isUserLike(principal: Principal): principal is UserLikePrincipal {
  return principal.kind === 'user' || principal.kind === 'delegated';
}

export function hasScope(principal: Principal, scope: string): boolean {
  return principal.scopes.includes(scope);
}
