import { ACCESS_TOKEN_TYPE, type AllowedAlgorithm } from '../contract/access-token.claims';
import { SecurityError } from '../security.error';

/** Larger tokens are refused before any parsing (ours are about 1 KB). */
export const MAX_TOKEN_LENGTH = 8192;

const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** A `kid` is an opaque, short identifier; anything else (paths, quotes, NUL, 1 MB) is refused. */
const KID = /^[A-Za-z0-9._-]{1,128}$/;
/**
 * Header parameters that point at or carry a key (RFC 7515 §4.1.2-4.1.6) are never trusted:
 * keys come from the issuer's JWKS only. `crit` (§4.1.11) announces extensions we do not
 * implement, so a token that uses it is refused rather than half-understood.
 */
const FORBIDDEN_HEADER_PARAMETERS = ['jku', 'jwk', 'x5u', 'x5c', 'crit'] as const;

export interface AccessTokenHeader {
  alg: AllowedAlgorithm;
  kid: string;
  typ: string;
}

function decodeJsonObject(segment: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/**
 * Checks the shape and the JOSE header of a compact JWS before any key is looked up, so that
 * a hostile header never reaches the JWKS or the crypto: three base64url segments, a
 * non-empty signature, an allowed asymmetric `alg` (exact, case-sensitive), `typ` at+jwt,
 * a plain `kid`, no key-bearing or `crit` parameters.
 */
export function checkTokenHeader(
  token: string,
  algorithms: readonly AllowedAlgorithm[],
): AccessTokenHeader {
  if (token.length > MAX_TOKEN_LENGTH) {
    throw new SecurityError('TOKEN_TOO_LARGE', 'access token is too large');
  }
  const segments = token.split('.');
  if (segments.length !== 3 || !segments.every((segment) => BASE64URL.test(segment))) {
    throw new SecurityError('TOKEN_MALFORMED', 'access token is not a signed JWT');
  }
  const header = decodeJsonObject(segments[0]);
  if (!header || !decodeJsonObject(segments[1])) {
    throw new SecurityError('TOKEN_MALFORMED', 'access token is not a signed JWT');
  }
  // RFC 8725 §3.1: the algorithm is never chosen by the token; none and HS* are not in the list.
  if (typeof header.alg !== 'string' || !algorithms.includes(header.alg as AllowedAlgorithm)) {
    throw new SecurityError('TOKEN_ALG_NOT_ALLOWED', 'access token algorithm is not allowed');
  }
  for (const name of FORBIDDEN_HEADER_PARAMETERS) {
    if (name in header) {
      throw new SecurityError('TOKEN_HEADER_FORBIDDEN', `access token header ${name} is refused`);
    }
  }
  // RFC 9068 §4: typ must be at+jwt (or application/at+jwt); media types compare case-insensitively.
  const typ = typeof header.typ === 'string' ? header.typ.toLowerCase() : '';
  if (typ !== ACCESS_TOKEN_TYPE && typ !== `application/${ACCESS_TOKEN_TYPE}`) {
    throw new SecurityError('TOKEN_TYPE_INVALID', 'token is not an access token (typ)');
  }
  if (typeof header.kid !== 'string' || !KID.test(header.kid)) {
    throw new SecurityError('TOKEN_KID_INVALID', 'access token kid is missing or invalid');
  }
  return { alg: header.alg as AllowedAlgorithm, kid: header.kid, typ: header.typ as string };
}
