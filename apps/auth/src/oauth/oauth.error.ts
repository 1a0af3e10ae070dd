/** RFC 6749 §5.2 (and RFC 8693, RFC 8707, RFC 7009) error codes. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'unsupported_token_type'
  | 'server_error';

/** An OAuth endpoint error: status and body are exactly those of the RFC. */
export class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    readonly status = 400,
    readonly headers: Record<string, string> = {},
  ) {
    super(description);
    this.name = 'OAuthError';
  }

  /** RFC 6749 §5.2: invalid_client after Basic authentication is a 401 with a Basic challenge. */
  static invalidClient(description: string, basic: boolean): OAuthError {
    return new OAuthError(
      'invalid_client',
      description,
      401,
      basic ? { 'WWW-Authenticate': 'Basic realm="auth", charset="UTF-8"' } : {},
    );
  }
}
