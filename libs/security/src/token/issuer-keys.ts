import { createRemoteJWKSet, customFetch, type RemoteJWKSet } from 'jose';

export interface IssuerKeysOptions {
  jwksUri: string;
  /** After a fetch, an unknown kid does not refetch for this long (ms). Default 30 s. */
  cooldownMs: number;
  /** A fetched key set is refetched after this long even when every kid is known (ms). Default 10 min. */
  maxAgeMs: number;
  /** Per-fetch timeout (ms). Default 5 s. */
  timeoutMs: number;
  /** Test seam: the fetch used to get the JWKS. */
  fetch?: typeof fetch;
}

/**
 * The issuer's public keys, fetched from its JWKS and selected by `kid` and `alg` only (jose's
 * remote key set). An unknown `kid` refetches at most once per cooldown, so a flood of tokens
 * with random kids costs the issuer one request per cooldown. Keys are never taken from the
 * token (`jwk`, `jku`, `x5u`, `x5c` are refused before this is reached).
 */
export function issuerKeys(options: IssuerKeysOptions): RemoteJWKSet {
  return createRemoteJWKSet(new URL(options.jwksUri), {
    cooldownDuration: options.cooldownMs,
    cacheMaxAge: options.maxAgeMs,
    timeoutDuration: options.timeoutMs,
    ...(options.fetch ? { [customFetch]: options.fetch } : {}),
  });
}
