import { LRUCache } from 'lru-cache';
import type { AccessTokenClaims } from '../contract/access-token.claims';
import type { Principal } from './principal';

/** What a successful signature and header check established about a token. */
export interface VerifiedToken {
  readonly claims: AccessTokenClaims;
  readonly principal: Principal;
}

/**
 * Tokens whose signature, header and claim types were verified, keyed by the whole compact
 * token (not `jti`: two tokens with one `jti` are two tokens). An entry never outlives the
 * token's `exp` (+ tolerance). What can change while a token lives (time, revocation) and
 * what depends on the caller (audience) is checked on every hit, not cached.
 */
export class VerificationCache {
  private readonly lru: LRUCache<string, VerifiedToken> | null;

  constructor(maxEntries: number) {
    this.lru = maxEntries > 0 ? new LRUCache({ max: maxEntries, ttlAutopurge: false }) : null;
  }

  get(token: string): VerifiedToken | undefined {
    return this.lru?.get(token);
  }

  set(token: string, verified: VerifiedToken, toleranceSeconds: number): void {
    const ttlMs = (verified.claims.exp + toleranceSeconds) * 1000 - Date.now();
    if (this.lru && ttlMs > 0) this.lru.set(token, verified, { ttl: Math.ceil(ttlMs) });
  }

  get size(): number {
    return this.lru?.size ?? 0;
  }

  clear(): void {
    this.lru?.clear();
  }
}
