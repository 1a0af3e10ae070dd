import type { AllowedAlgorithm } from '@app/security';
import { generateKeyPairSync, randomBytes, type JsonWebKey, type KeyObject } from 'node:crypto';

/** Members a public JWK may carry; everything else (d, p, q, dp, dq, qi, oth, k) is dropped. */
const PUBLIC_MEMBERS = ['kty', 'crv', 'x', 'y', 'n', 'e'] as const;

export interface PublicJwk {
  kty: string;
  kid: string;
  alg: AllowedAlgorithm;
  use: 'sig';
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
}

/** Builds a public JWK from an allowlist of members, so a private member can never leak. */
export function toPublicJwk(key: KeyObject, kid: string, alg: AllowedAlgorithm): PublicJwk {
  const exported = key.export({ format: 'jwk' }) as JsonWebKey;
  const jwk: Record<string, unknown> = { kid, alg, use: 'sig' };
  for (const member of PUBLIC_MEMBERS) {
    if (exported[member] !== undefined) jwk[member] = exported[member];
  }
  return jwk as unknown as PublicJwk;
}

export function generateSigningKeyPair(alg: AllowedAlgorithm) {
  const pair =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : alg === 'RS256'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ed25519');
  return { ...pair, kid: randomBytes(12).toString('base64url') };
}
