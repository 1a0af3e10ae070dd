import type { JWTPayload } from 'jose';
import { ROLES, type AccessTokenClaims, type Role } from '../contract/access-token.claims';
import { SecurityError } from '../security.error';
import type { Principal } from './principal';

const MAX_CLAIM_LENGTH = 256;

function invalid(claim: string): never {
  throw new SecurityError('TOKEN_CLAIM_INVALID', `claim ${claim} is missing or of the wrong type`);
}

function isText(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_CLAIM_LENGTH;
}

function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

function isTextArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every(isText);
}

/**
 * RFC 9068 §2.2 and SPEC §3: every claim has the type the contract says. A claim of the wrong
 * type (an array `sub`, a string `exp`, an object `scope`) makes the whole token invalid, so no
 * later check compares values of an unexpected type.
 */
export function validateClaims(payload: JWTPayload): AccessTokenClaims {
  const p = payload as Record<string, unknown>;
  if (!isText(p.iss)) invalid('iss');
  if (!isText(p.sub)) invalid('sub');
  if (!isText(p.jti)) invalid('jti');
  if (!isText(p.client_id)) invalid('client_id');
  if (typeof p.scope !== 'string' || p.scope.length > 4096) invalid('scope');
  if (!(isText(p.aud) || (isTextArray(p.aud) && p.aud.length > 0))) invalid('aud');
  if (!isNumericDate(p.exp)) invalid('exp');
  if (!isNumericDate(p.iat)) invalid('iat');
  if (p.nbf !== undefined && !isNumericDate(p.nbf)) invalid('nbf');
  if (p.roles !== undefined) {
    if (!Array.isArray(p.roles) || !p.roles.every((role) => ROLES.includes(role as Role))) {
      invalid('roles');
    }
  }
  if (p.region !== undefined && !isText(p.region)) invalid('region');
  if (p.sid !== undefined && !isText(p.sid)) invalid('sid');
  if (p.auth_time !== undefined && !isNumericDate(p.auth_time)) invalid('auth_time');
  if (p.amr !== undefined && !isTextArray(p.amr)) invalid('amr');
  if (p.act !== undefined) {
    const act = p.act as { sub?: unknown } | null;
    if (typeof act !== 'object' || act === null || Array.isArray(act) || !isText(act.sub)) {
      invalid('act');
    }
  }
  return p as unknown as AccessTokenClaims;
}

/**
 * The principal a token describes. `act` (RFC 8693 §4.1) makes it a delegated call, `roles`
 * a user's own token; otherwise it is a client-credentials token, whose `sub` is the client
 * (RFC 9068 §2.2). A token that fits none of these shapes is refused.
 */
export function principalFromClaims(claims: AccessTokenClaims): Principal {
  const base = {
    clientId: claims.client_id,
    scopes: Object.freeze(claims.scope.split(' ').filter((scope) => scope.length > 0)),
    tokenId: claims.jti,
    expiresAt: claims.exp,
    issuedAt: claims.iat,
  };
  const user = () => ({
    id: claims.sub,
    roles: Object.freeze([...(claims.roles ?? [])]),
    region: claims.region,
    sessionId: claims.sid,
    authTime: claims.auth_time,
    amr: Object.freeze([...(claims.amr ?? [])]),
  });
  if (claims.act) {
    if (!claims.roles) invalid('roles');
    return Object.freeze({
      kind: 'delegated',
      ...base,
      ...user(),
      actor: Object.freeze({ clientId: claims.act.sub }),
    });
  }
  if (claims.roles) return Object.freeze({ kind: 'user', ...base, ...user() });
  if (claims.sub !== claims.client_id) invalid('sub');
  return Object.freeze({ kind: 'service', ...base });
}
