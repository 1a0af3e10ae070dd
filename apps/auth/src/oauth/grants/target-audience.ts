import type { OAuthClient } from '../../clients/oauth-client';
import { OAuthError } from '../oauth.error';

/**
 * The one audience of a token (SPEC §3): `resource` (RFC 8707) or `audience` (RFC 8693 §2.1),
 * naming a service. Anything the client may not have is `invalid_target`.
 */
export function targetAudience(client: OAuthClient, params: Record<string, string>): string {
  const { resource, audience } = params;
  if (resource !== undefined && audience !== undefined && resource !== audience) {
    throw new OAuthError('invalid_target', 'resource and audience name different services');
  }
  const target = resource ?? audience;
  if (!target) throw new OAuthError('invalid_target', 'resource or audience is required');
  if (!client.audiences.includes(target)) {
    throw new OAuthError(
      'invalid_target',
      `the client may not obtain tokens for ${target.slice(0, 64)}`,
    );
  }
  return target;
}

/**
 * Scopes for `audience` out of `allowed` (scopes are `<audience>:<action>`). A requested scope
 * outside them is `invalid_scope` (RFC 6749 §5.2); none requested means all of them.
 */
export function grantedScope(
  allowed: readonly string[],
  audience: string,
  requested: string | undefined,
): string {
  const forAudience = allowed.filter((scope) => scope.startsWith(`${audience}:`));
  if (requested === undefined) {
    if (forAudience.length === 0)
      throw new OAuthError('invalid_scope', 'no scope is allowed for this audience');
    return forAudience.join(' ');
  }
  const asked = requested.split(' ');
  if (asked.some((scope) => scope === '' || !forAudience.includes(scope))) {
    throw new OAuthError('invalid_scope', 'the requested scope is not allowed');
  }
  return [...new Set(asked)].join(' ');
}
