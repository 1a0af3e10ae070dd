import {
  createRemoteJWKSet,
  customFetch,
  errors,
  type CryptoKey,
  type JWSHeaderParameters,
} from 'jose';
import type { KeyObject } from 'node:crypto';
import type { IssuerKeysOptions } from './issuer-keys';

/**
 * A key the issuer no longer signs with, and the period it signed in (NumericDate seconds).
 * In the issuer's retired key set each key carries that period as `iat` (it started signing)
 * and `exp` (it stopped), the members OpenID Federation's historical keys use.
 */
export interface RetiredKey {
  key: CryptoKey | KeyObject;
  activatedAt: number;
  retiredAt: number;
}

/** The retired key for a token header (`kid` and `alg`), or undefined when the issuer lists none. */
export type RetiredKeyLookup = (header: JWSHeaderParameters) => Promise<RetiredKey | undefined>;

const isNumericDate = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0;

/**
 * The issuer's retired keys (`${issuer}/.well-known/retired-jwks.json`), for one use only:
 * verifying a NATS message stored before its publisher's key was retired. A stream keeps a
 * message for days (STREAM_MAX_AGE_MS), the live JWKS lists a retired key for minutes. Fetched
 * and selected like the live set (kid and alg, an unknown kid refetches once per cooldown); a
 * listed key without a signing period verifies nothing.
 */
export function retiredIssuerKeys(options: IssuerKeysOptions): RetiredKeyLookup {
  const remote = createRemoteJWKSet(new URL(options.jwksUri), {
    cooldownDuration: options.cooldownMs,
    cacheMaxAge: options.maxAgeMs,
    timeoutDuration: options.timeoutMs,
    ...(options.fetch ? { [customFetch]: options.fetch } : {}),
  });
  return async (header) => {
    let key: CryptoKey;
    try {
      key = await remote(header);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey) return undefined;
      throw error;
    }
    const jwk: Record<string, unknown> | undefined = remote
      .jwks()
      ?.keys.find((candidate) => candidate.kid === header.kid);
    const activatedAt = jwk?.iat;
    const retiredAt = jwk?.exp;
    if (!isNumericDate(activatedAt) || !isNumericDate(retiredAt) || retiredAt < activatedAt) {
      return undefined;
    }
    return { key, activatedAt, retiredAt };
  };
}
