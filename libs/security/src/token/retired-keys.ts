import { errors, type CryptoKey, type JWSHeaderParameters } from 'jose';
import type { KeyObject } from 'node:crypto';
import { issuerKeys, type IssuerKeysOptions } from './issuer-keys';

/**
 * A key the issuer no longer signs with, and the period it signed in (NumericDate seconds).
 * In the issuer's retired key set each key carries that period as `iat` (it started signing)
 * and `exp` (the end of its signing period), the members OpenID Federation's historical keys use.
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

interface SigningPeriod {
  activatedAt: number;
  retiredAt: number;
}

/** kid → signing period of a fetched retired key set; a key without a valid period has none. */
function signingPeriods(body: unknown): Map<string, SigningPeriod> {
  const periods = new Map<string, SigningPeriod>();
  const keys = (body as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) return periods;
  for (const jwk of keys as Record<string, unknown>[]) {
    const { kid, iat, exp } = jwk ?? {};
    if (typeof kid === 'string' && isNumericDate(iat) && isNumericDate(exp) && exp >= iat) {
      periods.set(kid, { activatedAt: iat, retiredAt: exp });
    }
  }
  return periods;
}

/**
 * The issuer's retired keys (`${issuer}/.well-known/retired-jwks.json`), for one use only:
 * verifying a NATS message stored before its publisher's key was retired. A stream keeps a
 * message for days (STREAM_MAX_AGE_MS), the live JWKS lists a retired key for minutes. Fetched
 * and selected like the live set (kid and alg, an unknown kid refetches once per cooldown); a
 * listed key without a signing period verifies nothing. The periods are read once per fetch
 * (from the same response jose reads its keys from), not per message.
 */
export function retiredIssuerKeys(options: IssuerKeysOptions): RetiredKeyLookup {
  let periods = new Map<string, SigningPeriod>();
  const fetchSet = options.fetch ?? fetch;
  const recordingFetch = async (url: string | URL, init?: RequestInit): Promise<Response> => {
    const response = await fetchSet(url, init);
    if (response.ok) {
      try {
        periods = signingPeriods(await response.clone().json());
      } catch {
        // Not JSON: jose reports the set as invalid, and the periods stay as they were.
      }
    }
    return response;
  };
  const remote = issuerKeys({ ...options, fetch: recordingFetch as typeof fetch });
  return async (header) => {
    let key: CryptoKey;
    try {
      key = await remote(header);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey) return undefined;
      throw error;
    }
    const period = header.kid === undefined ? undefined : periods.get(header.kid);
    return period && { key, ...period };
  };
}
