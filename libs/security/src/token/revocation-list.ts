import {
  CLOCK_TOLERANCE_SECONDS,
  USER_ACCESS_TOKEN_TTL_SECONDS,
  type AccessTokenClaims,
} from '../contract/access-token.claims';
import type { RevocationEvent } from '../contract/revocation.event';
import { SecurityError } from '../security.error';

/** How long an entry that is not bound to one token's `exp` is kept: every token it covers is expired by then. */
export const REVOCATION_RETENTION_SECONDS = USER_ACCESS_TOKEN_TTL_SECONDS + CLOCK_TOLERANCE_SECONDS;

const MAX_ID_LENGTH = 256;

function isId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_ID_LENGTH;
}

function isSeconds(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

/** Validates an `auth.revocations` payload; anything else is refused, not guessed at. */
export function parseRevocationEvent(value: unknown): RevocationEvent | null {
  if (typeof value !== 'object' || value === null) return null;
  const event = value as Record<string, unknown>;
  if (!isSeconds(event.at)) return null;
  switch (event.type) {
    case 'jti':
      return isId(event.jti) && isSeconds(event.exp)
        ? { type: 'jti', jti: event.jti, exp: event.exp, at: event.at }
        : null;
    case 'sid':
      return isId(event.sid) ? { type: 'sid', sid: event.sid, at: event.at } : null;
    case 'sub':
      return isId(event.sub) ? { type: 'sub', sub: event.sub, at: event.at } : null;
    case 'client':
      return isId(event.clientId)
        ? { type: 'client', clientId: event.clientId, at: event.at }
        : null;
    default:
      return null;
  }
}

/**
 * The in-memory deny-list of one replica, fed by `auth.revocations` (SPEC §3). Times are JWT
 * NumericDates (seconds). Checked on every request, cache hit or not.
 *
 * - `jti`: that token, until its `exp`.
 * - `sid`: every token of the session, whenever issued: a revoked refresh family never
 *   issues again, so a token of it issued after `at` (by a refresh that raced the revocation)
 *   is no more valid than the others. auth's own check decides the same way.
 * - `sub` / `client`: every token of the user / client issued before `at` (`iat < at`).
 */
export class RevocationList {
  private readonly byJti = new Map<string, number>();
  private readonly bySid = new Map<string, number>();
  private readonly bySub = new Map<string, number>();
  private readonly byClient = new Map<string, number>();
  private lastPrune = 0;

  constructor(private readonly now: () => number = () => Date.now() / 1000) {}

  add(event: RevocationEvent): void {
    switch (event.type) {
      case 'jti':
        this.byJti.set(event.jti, Math.max(event.exp, this.byJti.get(event.jti) ?? 0));
        break;
      case 'sid':
        this.bySid.set(event.sid, Math.max(event.at, this.bySid.get(event.sid) ?? 0));
        break;
      case 'sub':
        this.bySub.set(event.sub, Math.max(event.at, this.bySub.get(event.sub) ?? 0));
        break;
      case 'client':
        this.byClient.set(
          event.clientId,
          Math.max(event.at, this.byClient.get(event.clientId) ?? 0),
        );
        break;
    }
    this.pruneNowAndThen();
  }

  /** Throws TOKEN_REVOKED when a revocation covers the token. */
  check(claims: AccessTokenClaims): void {
    if (this.isRevoked(claims)) throw new SecurityError('TOKEN_REVOKED', 'access token is revoked');
  }

  isRevoked(claims: AccessTokenClaims): boolean {
    if (this.byJti.has(claims.jti)) return true;
    if (claims.sid !== undefined && this.bySid.has(claims.sid)) return true;
    const subAt = this.bySub.get(claims.sub);
    if (subAt !== undefined && claims.iat < subAt) return true;
    const clientAt = this.byClient.get(claims.client_id);
    return clientAt !== undefined && claims.iat < clientAt;
  }

  get size(): number {
    return this.byJti.size + this.bySid.size + this.bySub.size + this.byClient.size;
  }

  /** Forgets entries that can no longer match an unexpired token. */
  prune(): void {
    const now = this.now();
    this.lastPrune = now;
    for (const [jti, exp] of this.byJti) {
      if (exp + CLOCK_TOLERANCE_SECONDS < now) this.byJti.delete(jti);
    }
    for (const map of [this.bySid, this.bySub, this.byClient]) {
      for (const [key, at] of map) if (at + REVOCATION_RETENTION_SECONDS < now) map.delete(key);
    }
  }

  private pruneNowAndThen(): void {
    if (this.now() - this.lastPrune >= 10) this.prune();
  }
}
