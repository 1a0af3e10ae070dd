import { LRUCache } from 'lru-cache';
import type { AccessTokenClaims } from '../contract/access-token.claims';
import type { Principal } from './principal';

/** What a successful signature and header check established about a token. */
export interface VerifiedToken {
  readonly claims: AccessTokenClaims;
  readonly principal: Principal;
}

interface Entry {
  readonly token: string;
  readonly verified: VerifiedToken;
}

/**
 * The map key of a token: its signature segment. Hashing a whole ~600-character token cost a
 * warm request about a microsecond; the signature is short and differs between any two tokens
 * the issuer signed. It only finds the entry: the whole token must then be equal.
 */
function lookupKey(token: string): string {
  return token.slice(token.lastIndexOf('.') + 1);
}

/**
 * Tokens whose signature, header and claim types were verified, decided by the whole compact
 * token (not `jti`: two tokens with one `jti` are two tokens; not the signature alone: a token
 * that keeps a cached token's signature but changes anything else is a miss, and is verified).
 * An entry never outlives the token's `exp` (+ tolerance). What can change while a token lives
 * (time, revocation) and what depends on the caller (audience) is checked on every hit.
 */
export class VerificationCache {
  private readonly lru: LRUCache<string, Entry> | null;

  constructor(maxEntries: number) {
    this.lru = maxEntries > 0 ? new LRUCache({ max: maxEntries, ttlAutopurge: false }) : null;
  }

  get(token: string): VerifiedToken | undefined {
    const entry = this.lru?.get(lookupKey(token));
    return entry !== undefined && entry.token === token ? entry.verified : undefined;
  }

  set(token: string, verified: VerifiedToken, toleranceSeconds: number): void {
    const ttlMs = (verified.claims.exp + toleranceSeconds) * 1000 - Date.now();
    if (this.lru && ttlMs > 0) {
      this.lru.set(lookupKey(token), { token, verified }, { ttl: Math.ceil(ttlMs) });
    }
  }

  get size(): number {
    return this.lru?.size ?? 0;
  }

  clear(): void {
    this.lru?.clear();
  }
}
