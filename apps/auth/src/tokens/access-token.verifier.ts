import { ACCESS_TOKEN_TYPE, CLOCK_TOLERANCE_SECONDS, type AccessTokenClaims } from '@app/security';
import { Inject, Injectable } from '@nestjs/common';
import { AUTH_CONFIG, type AuthConfig } from '../auth.config';
import { CLOCK, type Clock } from '../common/clock';
import { SigningKeyStore } from '../keys/signing-key.store';
import { decodeCompact, JwsError, verifySignature } from './jws';

export interface VerifyOptions {
  /** The audience that must be in `aud`; only RFC 7009 revocation omits it. */
  audience?: string;
  /** Time to check `exp`/`nbf` against (a NATS message: when the broker stored it). */
  at?: number;
  /** RFC 7009: a revocation request may name an expired token. */
  allowExpired?: boolean;
}

/**
 * Verifies auth's own access tokens with the same rules as every resource server (SPEC §3):
 * issuer, audience, typ at+jwt, allowed alg bound to the key, kid from the key store, exp and
 * nbf with at most 30 s tolerance. Errors carry a jose-style `code`.
 */
@Injectable()
export class AccessTokenVerifier {
  constructor(
    private readonly keys: SigningKeyStore,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async verify(token: string, options: VerifyOptions): Promise<AccessTokenClaims> {
    const decoded = decodeCompact(token);
    const { header, payload } = decoded;
    // RFC 9068 §4: reject tokens whose typ is not at+jwt.
    const typ = typeof header.typ === 'string' ? header.typ.toLowerCase() : '';
    if (typ !== ACCESS_TOKEN_TYPE && typ !== `application/${ACCESS_TOKEN_TYPE}`) {
      throw new JwsError('ERR_JWT_CLAIM_VALIDATION_FAILED', 'unexpected "typ" JWT header value');
    }
    if (typeof header.kid !== 'string') throw new JwsError('ERR_JWKS_NO_MATCHING_KEY', 'no kid');
    const key = await this.keys.publicKey(header.kid);
    if (!key) throw new JwsError('ERR_JWKS_NO_MATCHING_KEY', 'no key matches the kid');
    verifySignature(decoded, key);

    const claims = payload as unknown as AccessTokenClaims;
    if (claims.iss !== this.config.AUTH_ISSUER) {
      throw new JwsError('ERR_JWT_CLAIM_VALIDATION_FAILED', 'unexpected "iss" claim value');
    }
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (options.audience !== undefined && !audiences.includes(options.audience)) {
      throw new JwsError('ERR_JWT_CLAIM_VALIDATION_FAILED', 'unexpected "aud" claim value');
    }
    for (const name of ['sub', 'jti', 'client_id', 'scope'] as const) {
      if (typeof claims[name] !== 'string') {
        throw new JwsError('ERR_JWT_CLAIM_VALIDATION_FAILED', `missing "${name}" claim`);
      }
    }
    if (typeof claims.exp !== 'number' || typeof claims.iat !== 'number') {
      throw new JwsError('ERR_JWT_CLAIM_VALIDATION_FAILED', 'missing "exp" or "iat" claim');
    }
    const now = (options.at ?? this.clock.now()) / 1000;
    if (!options.allowExpired && claims.exp <= now - CLOCK_TOLERANCE_SECONDS) {
      throw new JwsError('ERR_JWT_EXPIRED', '"exp" claim timestamp check failed');
    }
    if (typeof claims.nbf === 'number' && claims.nbf > now + CLOCK_TOLERANCE_SECONDS) {
      throw new JwsError('ERR_JWT_CLAIM_VALIDATION_FAILED', '"nbf" claim timestamp check failed');
    }
    if (claims.iat > now + CLOCK_TOLERANCE_SECONDS) {
      throw new JwsError('ERR_JWT_CLAIM_VALIDATION_FAILED', '"iat" claim is in the future');
    }
    return claims;
  }
}
