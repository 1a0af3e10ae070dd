import type { AuthConfig } from '../auth.config';
import type { AuditService } from '../audit/audit.service';
import type { ClientSecretHasher } from '../clients/client-secret.hasher';
import type { ClientsService } from '../clients/clients.service';
import type { OAuthClient } from '../clients/oauth-client';
import { ClientAuthenticator } from './client-authenticator';
import type { PrivateKeyJwtVerifier } from './private-key-jwt.verifier';

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

function authenticatorFor(client: Partial<OAuthClient>) {
  const clients = { find: jest.fn().mockResolvedValue({ clientId: 'billing', ...client }) };
  // The secret matches: only the client's registered method can refuse it.
  const hasher = { check: jest.fn().mockReturnValue('match') };
  const audit = { record: jest.fn() };
  return new ClientAuthenticator(
    clients as unknown as ClientsService,
    hasher as unknown as ClientSecretHasher,
    {} as PrivateKeyJwtVerifier,
    audit as unknown as AuditService,
    {} as AuthConfig,
  );
}

it('accepts Basic for a client registered for client_secret_basic (the control)', async () => {
  const authenticator = authenticatorFor({
    tokenEndpointAuthMethod: 'client_secret_basic',
    secretHash: Buffer.alloc(32),
  });
  await expect(
    authenticator.authenticate(basic('billing', 's'), {}, '127.0.0.1'),
  ).resolves.toMatchObject({ clientId: 'billing' });
});

it('refuses Basic for a private_key_jwt client, even with a secret that still matches', async () => {
  // E.g. a client moved to private_key_jwt whose old secret hash is still stored.
  const authenticator = authenticatorFor({
    tokenEndpointAuthMethod: 'private_key_jwt',
    secretHash: Buffer.alloc(32),
  });
  await expect(
    authenticator.authenticate(basic('billing', 's'), {}, '127.0.0.1'),
  ).rejects.toMatchObject({ error: 'invalid_client' });
});
