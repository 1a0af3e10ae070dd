// Principals for tests of policies and handlers: what a verified token would give, with the
// fields a test does not name set to neutral values.
import type { ServicePrincipal, UserPrincipal } from '@app/security';

/** A user calling with their own token (a customer in eu unless told otherwise). */
export function userPrincipal(fields: Partial<Omit<UserPrincipal, 'kind'>> = {}): UserPrincipal {
  return {
    kind: 'user',
    id: 'user-1',
    roles: ['customer'],
    region: 'eu',
    sessionId: undefined,
    authTime: undefined,
    amr: [],
    clientId: 'web',
    scopes: [],
    tokenId: 'j',
    expiresAt: 0,
    issuedAt: 0,
    ...fields,
  };
}

/** A service calling for itself with a client-credentials token. */
export function servicePrincipal(clientId: string, scopes: string[] = []): ServicePrincipal {
  return { kind: 'service', clientId, scopes, tokenId: 'j', expiresAt: 0, issuedAt: 0 };
}
