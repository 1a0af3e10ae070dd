import {
  ALLOWED_ALGORITHMS,
  CLOCK_TOLERANCE_SECONDS,
  RevocationList,
  TokenVerifier,
} from '@app/security';
import { errors, type JWTVerifyGetKey } from 'jose';
import type { AuthConfig } from '../auth.config';
import type { SigningKeyStore } from '../keys/signing-key.store';

/** Verified tokens auth's guards keep (LRU); expiry, audience and revocation are still checked per call. */
const CACHE_SIZE = 10_000;

/**
 * The verifier behind auth's own guards: `@app/security`'s TokenVerifier, the one implementation
 * of SPEC §3's rules that users and orders use too ("a rule holds everywhere or nowhere").
 * Only the key source differs: auth reads the published keys (current, next, previous) from its
 * own key store instead of fetching its own JWKS over HTTP; an unknown kid re-reads the table at
 * most once a second (SigningKeyStore.publicKey), as the remote JWKS refetch cooldown does.
 * Retired keys (for NATS messages stored before a rotation) come from the same store.
 *
 * Revocation: auth's tables are the source of truth and the guards check them after verifying,
 * so the verifier's broadcast-fed list stays empty here.
 */
export function ownTokenVerifier(keys: SigningKeyStore, config: AuthConfig): TokenVerifier {
  const keyForKid: JWTVerifyGetKey = async (header) => {
    const key = header.kid ? await keys.publicKey(header.kid) : undefined;
    if (!key) throw new errors.JWKSNoMatchingKey();
    return key;
  };
  return new TokenVerifier(
    {
      issuer: config.AUTH_ISSUER,
      algorithms: ALLOWED_ALGORITHMS,
      clockToleranceSeconds: CLOCK_TOLERANCE_SECONDS,
      cacheSize: CACHE_SIZE,
    },
    keyForKid,
    new RevocationList(),
    async (header) => (header.kid ? keys.retiredKey(header.kid) : undefined),
  );
}
