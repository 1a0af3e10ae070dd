import { errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import {
  MAX_ACCESS_TOKEN_TTL_SECONDS,
  type AccessTokenClaims,
  type AllowedAlgorithm,
} from '../contract/access-token.claims';
import { SecurityError } from '../security.error';
import { principalFromClaims, validateClaims } from './claims.validator';
import type { Principal } from './principal';
import type { RetiredKey, RetiredKeyLookup } from './retired-keys';
import type { RevocationList } from './revocation-list';
import { checkTokenHeader } from './token-header';
import { VerificationCache, type VerifiedToken } from './verification-cache';

export interface TokenVerifierConfig {
  issuer: string;
  algorithms: readonly AllowedAlgorithm[];
  /** Leeway for exp, nbf and iat (seconds, at most 30). */
  clockToleranceSeconds: number;
  /** Verified tokens kept (LRU). 0 disables the cache. */
  cacheSize: number;
}

export interface VerifyOptions {
  /** The audience this verifier's caller is: a token must list it in `aud`. */
  audience: string;
  /** The instant the token must be valid at. Default now; for NATS, when the broker stored the message. */
  currentDate?: Date;
  /**
   * For a stored message (NATS) only: a token whose key the issuer has retired since still
   * verifies, if it was issued while that key was signing (see `verifyWithRetiredKey`). A live
   * request (HTTP, gRPC) never sets it: for those, a key leaves with the live JWKS.
   */
  allowRetiredKeys?: boolean;
}

const raw = new WeakMap<Principal, string>();

/** The access token a principal was established from, e.g. to exchange it (RFC 8693). */
export function accessTokenOf(principal: Principal): string | undefined {
  return raw.get(principal);
}

function fromJoseError(error: unknown): SecurityError {
  if (error instanceof SecurityError) return error;
  if (error instanceof errors.JWTExpired) {
    return new SecurityError('TOKEN_EXPIRED', 'access token expired');
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return new SecurityError('TOKEN_ISSUER_INVALID', 'wrong issuer');
    if (error.claim === 'nbf') {
      return new SecurityError('TOKEN_NOT_YET_VALID', 'access token is not valid yet');
    }
    return new SecurityError('TOKEN_CLAIM_INVALID', `claim ${error.claim} is invalid`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new SecurityError('TOKEN_SIGNATURE_INVALID', 'access token signature is invalid');
  }
  if (
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys
  ) {
    return new SecurityError('TOKEN_KEY_NOT_FOUND', 'no issuer key matches the token kid');
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return new SecurityError('TOKEN_ALG_NOT_ALLOWED', 'access token algorithm is not allowed');
  }
  if (
    error instanceof errors.JWKSTimeout ||
    error instanceof errors.JWKSInvalid ||
    // jose throws a bare JOSEError (no subclass) only when fetching the JWKS: a non-200 answer
    // (an issuer restarting behind its proxy) or a body that is not JSON.
    (error as Error).constructor === errors.JOSEError ||
    !(error instanceof errors.JOSEError)
  ) {
    // The JWKS could not be fetched or parsed (network, timeout, bad document): not the caller's fault.
    return new SecurityError('JWKS_UNAVAILABLE', 'issuer keys are unavailable', { cause: error });
  }
  return new SecurityError('TOKEN_MALFORMED', 'access token is invalid', { cause: error });
}

/**
 * The one verifier behind every transport (HTTP via passport, gRPC and NATS via the guard).
 * SPEC §3 / RFC 9068 §4 / RFC 8725: the header is checked first (alg allowlist, typ at+jwt, kid,
 * no jku/jwk/x5u/x5c/crit), then jose verifies the signature with the issuer's key for that
 * kid, the issuer, and exp/nbf; then every claim's type. A verified token is cached; expiry,
 * not-before, audience and the deny-list are checked on every call, cache hit or not.
 *
 * @example
 * const { principal } = await verifier.verify(token, { audience: 'orders' });
 */
export class TokenVerifier {
  private readonly cache: VerificationCache;

  constructor(
    private readonly config: TokenVerifierConfig,
    private readonly keys: JWTVerifyGetKey,
    private readonly revocations: RevocationList,
    /** The issuer's retired keys, for `allowRetiredKeys`; none means a retired key verifies nothing. */
    private readonly retiredKeys?: RetiredKeyLookup,
  ) {
    this.cache = new VerificationCache(config.cacheSize);
  }

  async verify(token: string, options: VerifyOptions): Promise<VerifiedToken> {
    const cached = this.verifyCached(token, options);
    if (cached) return cached;
    const currentDate = options.currentDate ?? new Date();
    const { verified, withRetiredKey } = await this.verifyCold(
      token,
      currentDate,
      options.allowRetiredKeys === true,
    );
    // A token only a retired key verifies serves stored messages alone: it is not cached, so
    // no later call can be answered from a decision that needed allowRetiredKeys.
    if (!withRetiredKey) this.cache.set(token, verified, this.config.clockToleranceSeconds);
    return this.checkUse(verified, options, currentDate);
  }

  /**
   * The same decision as `verify` for a token whose signature was already verified, without a
   * promise (the HTTP edge answers a warm request synchronously); undefined on a cache miss.
   * Time, audience and the deny-list are checked on every call.
   */
  verifyCached(token: string, options: VerifyOptions): VerifiedToken | undefined {
    if (typeof token !== 'string' || token.length === 0) {
      throw new SecurityError('TOKEN_MISSING', 'an access token is required');
    }
    const verified = this.cache.get(token);
    if (!verified) return undefined;
    return this.checkUse(verified, options, options.currentDate ?? new Date());
  }

  private checkUse(
    verified: VerifiedToken,
    options: VerifyOptions,
    currentDate: Date,
  ): VerifiedToken {
    this.checkTime(verified.claims, currentDate);
    this.checkAudience(verified.claims, options.audience);
    this.revocations.check(verified.claims);
    return verified;
  }

  /** Cached verified tokens (for tests and metrics). */
  get cacheSize(): number {
    return this.cache.size;
  }

  private async verifyCold(
    token: string,
    currentDate: Date,
    allowRetiredKeys: boolean,
  ): Promise<{ verified: VerifiedToken; withRetiredKey: boolean }> {
    checkTokenHeader(token, this.config.algorithms);
    let payload: JWTPayload;
    let retired: RetiredKey | undefined;
    try {
      ({ payload } = await jwtVerify(token, this.keys, this.joseOptions(currentDate)));
    } catch (error) {
      const retiredKeys = allowRetiredKeys ? this.retiredKeys : undefined;
      if (!retiredKeys || !(error instanceof errors.JWKSNoMatchingKey)) throw fromJoseError(error);
      ({ payload, retired } = await this.verifyWithRetiredKey(token, currentDate, retiredKeys));
    }
    const claims = validateClaims(payload);
    if (retired) this.checkSigningPeriod(claims, retired);
    // No token of this issuer lives longer: a longer one was minted with a stolen key, and
    // would otherwise outlive the key's removal (in this cache, until its exp).
    if (claims.exp - claims.iat > MAX_ACCESS_TOKEN_TTL_SECONDS) {
      throw new SecurityError('TOKEN_CLAIM_INVALID', 'claim exp is beyond the longest lifetime');
    }
    const principal = principalFromClaims(claims);
    raw.set(principal, token);
    return { verified: { claims, principal }, withRetiredKey: retired !== undefined };
  }

  private joseOptions(currentDate: Date) {
    return {
      issuer: this.config.issuer,
      algorithms: [...this.config.algorithms],
      typ: 'at+jwt',
      currentDate,
      clockTolerance: this.config.clockToleranceSeconds,
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti'],
    };
  }

  /**
   * A token whose kid the live JWKS no longer lists, verified with the issuer's retired key of
   * that kid; its claims are then checked in verifyCold like any other's.
   */
  private async verifyWithRetiredKey(
    token: string,
    currentDate: Date,
    retiredKeys: RetiredKeyLookup,
  ): Promise<{ payload: JWTPayload; retired: RetiredKey }> {
    let retired: RetiredKey | undefined;
    const retiredKey: JWTVerifyGetKey = async (header) => {
      retired = await retiredKeys(header);
      if (!retired) throw new errors.JWKSNoMatchingKey();
      return retired.key;
    };
    try {
      const { payload } = await jwtVerify(token, retiredKey, this.joseOptions(currentDate));
      return { payload, retired: retired! };
    } catch (error) {
      throw fromJoseError(error);
    }
  }

  /**
   * A retired key vouches only for tokens issued while it was signing, and no token of this
   * issuer lives longer than MAX_ACCESS_TOKEN_TTL_SECONDS (checked in verifyCold): so even a
   * retired private key that leaked later cannot sign a token valid after `retiredAt` + that
   * lifetime + the tolerance, and the broker, not the publisher, sets the stored time it is
   * checked at.
   */
  private checkSigningPeriod(claims: AccessTokenClaims, retired: RetiredKey): void {
    const leeway = this.config.clockToleranceSeconds;
    if (claims.iat < retired.activatedAt - leeway || claims.iat > retired.retiredAt + leeway) {
      throw new SecurityError(
        'TOKEN_KEY_NOT_FOUND',
        'the token was not issued while its key was signing',
      );
    }
  }

  /** exp and nbf (RFC 7519 §4.1.4-5) and a sane iat, each with the configured leeway. */
  private checkTime(claims: AccessTokenClaims, currentDate: Date): void {
    const now = currentDate.getTime() / 1000;
    const leeway = this.config.clockToleranceSeconds;
    if (claims.exp + leeway <= now) {
      throw new SecurityError('TOKEN_EXPIRED', 'access token expired');
    }
    if (claims.nbf !== undefined && claims.nbf - leeway > now) {
      throw new SecurityError('TOKEN_NOT_YET_VALID', 'access token is not valid yet');
    }
    if (claims.iat - leeway > now) {
      throw new SecurityError('TOKEN_NOT_YET_VALID', 'access token is issued in the future');
    }
  }

  /** RFC 9068 §4: the token must be meant for this resource server. */
  private checkAudience(claims: AccessTokenClaims, audience: string): void {
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!audiences.includes(audience)) {
      throw new SecurityError(
        'TOKEN_AUDIENCE_INVALID',
        'access token is not meant for this service',
      );
    }
  }
}
