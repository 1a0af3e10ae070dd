import { Logger } from '@nestjs/common';
import {
  createLocalJWKSet,
  errors,
  type CryptoKey,
  type FlattenedJWSInput,
  type JWSHeaderParameters,
} from 'jose';

export interface IssuerKeysOptions {
  jwksUri: string;
  /**
   * After a fetch ATTEMPT (answered or failed), the JWKS is not fetched again for this long
   * (ms): not for an unknown kid, not for a stale set, not while the issuer is away. Default 30 s.
   */
  cooldownMs: number;
  /** A fetched key set is refetched after this long even when every kid is known (ms). Default 10 min. */
  maxAgeMs: number;
  /** Per-fetch timeout (ms). Default 5 s. */
  timeoutMs: number;
  /**
   * While refetches fail, the last fetched set keeps verifying until it is this old (ms);
   * after that the keys are unavailable. Default 1 h.
   */
  maxStaleMs?: number;
  /** Test seam: the fetch used to get the JWKS. */
  fetch?: typeof fetch;
}

const DEFAULT_MAX_STALE_MS = 60 * 60_000;

/** The key for a token's header (`kid`, `alg`); usable as jose's `jwtVerify` key argument. */
export type IssuerKeyLookup = (
  header: JWSHeaderParameters,
  token?: FlattenedJWSInput,
) => Promise<CryptoKey>;

/** The issuer's key set could not be fetched; the verifier answers JWKS_UNAVAILABLE. */
export class IssuerKeysUnavailable extends Error {
  override readonly name = 'IssuerKeysUnavailable';
}

/**
 * The issuer's public keys, fetched from its JWKS and selected by `kid` and `alg` only (jose's
 * local key set does the selection). Keys are never taken from the token (`jwk`, `jku`, `x5u`,
 * `x5c` are refused before this is reached).
 *
 * The JWKS is fetched at most once per cooldown, whatever asks for it: an unknown kid, a set
 * past `maxAgeMs`, or a replica that has no set yet. A failed fetch starts the cooldown too (jose's
 * remote set starts it on success only, so while the issuer was failing every token with a
 * random kid fetched again: a flood of them became a flood of requests on an issuer that was
 * trying to recover). Concurrent callers share one fetch.
 *
 * While refetches fail, the last set keeps verifying, up to `maxStaleMs` after it was fetched
 * (an issuer restart must not turn every known token into a 503); an unknown kid then answers
 * "no matching key", and a replica that never got a set answers "unavailable" without fetching
 * until the cooldown ends.
 */
export function issuerKeys(options: IssuerKeysOptions): IssuerKeyLookup {
  const logger = new Logger('IssuerKeys');
  const url = new URL(options.jwksUri).href;
  const fetchImpl = options.fetch ?? fetch;
  const maxStaleMs = options.maxStaleMs ?? DEFAULT_MAX_STALE_MS;
  let local: ReturnType<typeof createLocalJWKSet> | undefined;
  let fetchedAt = -Infinity;
  let attemptedAt = -Infinity;
  let lastFailure: unknown;
  let pending: Promise<void> | undefined;

  const download = async (): Promise<void> => {
    attemptedAt = Date.now();
    try {
      const response = await fetchImpl(url, {
        method: 'GET',
        redirect: 'manual',
        headers: { accept: 'application/json, application/jwk-set+json' },
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      if (response.status !== 200) {
        throw new IssuerKeysUnavailable(`the JWKS answered ${response.status}`);
      }
      let body: unknown;
      try {
        body = await response.json();
      } catch (cause) {
        throw new IssuerKeysUnavailable('the JWKS is not JSON', { cause });
      }
      local = createLocalJWKSet(body as Parameters<typeof createLocalJWKSet>[0]);
      fetchedAt = Date.now();
      lastFailure = undefined;
    } catch (error) {
      lastFailure = error;
      logger.warn(
        { jwksUri: url, error: (error as Error).message },
        'issuer keys could not be fetched; next attempt after the cooldown',
      );
      throw error;
    }
  };

  /** One shared fetch, if none ran within the cooldown; resolves whether or not it succeeded. */
  const refresh = async (): Promise<void> => {
    if (!pending) {
      if (Date.now() < attemptedAt + options.cooldownMs) return;
      pending = download().finally(() => (pending = undefined));
    }
    await pending.catch(() => undefined);
  };

  const usable = () =>
    local !== undefined && Date.now() < fetchedAt + options.maxAgeMs + maxStaleMs;

  return async (header, token) => {
    if (!usable() || Date.now() >= fetchedAt + options.maxAgeMs) await refresh();
    if (!usable()) {
      throw new IssuerKeysUnavailable('issuer keys are unavailable', { cause: lastFailure });
    }
    try {
      return await local!(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      const before = fetchedAt;
      await refresh();
      if (fetchedAt === before) throw error;
      return local!(header, token);
    }
  };
}
