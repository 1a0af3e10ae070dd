import { ApiError } from '@app/platform';

/**
 * Every failure of `@app/security` is a `SecurityError` with a stable `code` (jose's
 * `ERR_JWT_EXPIRED` style). It knows nothing about transports: `toEdgeError` maps it to HTTP
 * (401/403/404 with `WWW-Authenticate`), gRPC (UNAUTHENTICATED/PERMISSION_DENIED/NOT_FOUND)
 * and JetStream (the same status codes, which terminate and dead-letter the message).
 * It is an `ApiError`, so one thrown from a handler (`authorize`, `assertWritableFields`)
 * reaches the platform's exception filter with its status and code.
 */
export const SECURITY_ERROR_KINDS = {
  // The caller is not authenticated: 401 / UNAUTHENTICATED.
  TOKEN_MISSING: 'unauthenticated',
  TOKEN_MALFORMED: 'unauthenticated',
  TOKEN_TOO_LARGE: 'unauthenticated',
  TOKEN_ALG_NOT_ALLOWED: 'unauthenticated',
  TOKEN_TYPE_INVALID: 'unauthenticated',
  TOKEN_HEADER_FORBIDDEN: 'unauthenticated',
  TOKEN_KID_INVALID: 'unauthenticated',
  TOKEN_KEY_NOT_FOUND: 'unauthenticated',
  TOKEN_SIGNATURE_INVALID: 'unauthenticated',
  TOKEN_ISSUER_INVALID: 'unauthenticated',
  TOKEN_AUDIENCE_INVALID: 'unauthenticated',
  TOKEN_EXPIRED: 'unauthenticated',
  TOKEN_NOT_YET_VALID: 'unauthenticated',
  TOKEN_CLAIM_INVALID: 'unauthenticated',
  TOKEN_REVOKED: 'unauthenticated',
  // A NATS message stored longer ago than the deny-list can vouch for (MAX_STORED_MESSAGE_AGE_SECONDS).
  MESSAGE_TOO_OLD: 'unauthenticated',
  // RFC 9470: authenticated, but not recently enough: 401 with a step-up challenge.
  INSUFFICIENT_USER_AUTHENTICATION: 'step_up',
  // Authenticated, not allowed: 403 / PERMISSION_DENIED.
  INSUFFICIENT_SCOPE: 'forbidden',
  FORBIDDEN: 'forbidden',
  PUBLISHER_NOT_ALLOWED: 'forbidden',
  // Not allowed to know the object exists: 404 / NOT_FOUND.
  NOT_FOUND: 'not_found',
  // A write names fields the caller may not write: 400 / INVALID_ARGUMENT.
  FIELD_NOT_PERMITTED: 'bad_request',
  // The issuer's JWKS or token endpoint cannot be reached: 503 / UNAVAILABLE (retry later).
  JWKS_UNAVAILABLE: 'unavailable',
  TOKEN_REQUEST_FAILED: 'unavailable',
} as const;

const HTTP_STATUS: Record<SecurityErrorKind, number> = {
  unauthenticated: 401,
  step_up: 401,
  forbidden: 403,
  not_found: 404,
  bad_request: 400,
  unavailable: 503,
};

export type SecurityErrorCode = keyof typeof SECURITY_ERROR_KINDS;
export type SecurityErrorKind = (typeof SECURITY_ERROR_KINDS)[SecurityErrorCode];

/**
 * @example throw new SecurityError('INSUFFICIENT_SCOPE', 'scope orders:read is required', { scopes: ['orders:read'] });
 */
export class SecurityError extends ApiError {
  declare readonly code: SecurityErrorCode;
  readonly kind: SecurityErrorKind;
  /** Scopes a 403 asks for (RFC 6750 §3 `scope`), or the step-up `max_age` (RFC 9470 §3). */
  readonly scopes?: readonly string[];
  readonly maxAgeSeconds?: number;

  constructor(
    code: SecurityErrorCode,
    message: string,
    details: { scopes?: readonly string[]; maxAgeSeconds?: number; cause?: unknown } = {},
  ) {
    super(HTTP_STATUS[SECURITY_ERROR_KINDS[code]], message, { code, cause: details.cause });
    this.name = 'SecurityError';
    this.kind = SECURITY_ERROR_KINDS[code];
    this.scopes = details.scopes;
    this.maxAgeSeconds = details.maxAgeSeconds;
  }
}
