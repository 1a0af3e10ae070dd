import { OAuthError } from './oauth.error';

export type FormParams = Record<string, string | string[]>;

/**
 * application/x-www-form-urlencoded into a null-prototype object; a repeated name becomes an
 * array so that the endpoint can refuse it (RFC 6749 §3.1, §3.2: parameters MUST NOT be
 * included more than once).
 */
export function parseForm(body: string): FormParams {
  const params: FormParams = Object.create(null);
  for (const [name, value] of new URLSearchParams(body)) {
    const existing = params[name];
    if (existing === undefined) params[name] = value;
    else params[name] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return params;
}

export function isFormContentType(contentType: string | undefined): boolean {
  return (
    (contentType ?? '').split(';')[0].trim().toLowerCase() === 'application/x-www-form-urlencoded'
  );
}

/** Single-valued parameters; `resource` may repeat by RFC 8707 and is checked by the grant. */
export function singleValued(params: unknown): Record<string, string> {
  if (!params || typeof params !== 'object' || Array.isArray(params)) {
    throw new OAuthError('invalid_request', 'the body must be application/x-www-form-urlencoded');
  }
  const single: Record<string, string> = Object.create(null);
  for (const [name, value] of Object.entries(params as FormParams)) {
    if (Array.isArray(value)) {
      if (name === 'resource') {
        throw new OAuthError('invalid_target', 'exactly one resource per token request');
      }
      throw new OAuthError('invalid_request', `parameter ${name} is included more than once`);
    }
    if (typeof value !== 'string') {
      throw new OAuthError('invalid_request', 'the body must be application/x-www-form-urlencoded');
    }
    single[name] = value;
  }
  return single;
}
