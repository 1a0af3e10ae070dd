import { Logger } from '@nestjs/common';
import type { AuthConfig } from '../auth.config';
import type { IdentitiesService } from '../identities/identities.service';
import { AdminBootstrapService } from './admin-bootstrap.service';

function bootstrap(config: Partial<AuthConfig>, hasAdmin: boolean) {
  const identities = {
    hasAdmin: jest.fn().mockResolvedValue(hasAdmin),
    register: jest.fn().mockResolvedValue({}),
  };
  const service = new AdminBootstrapService(
    identities as unknown as IdentitiesService,
    config as AuthConfig,
  );
  return { service, identities };
}

beforeEach(() => {
  jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());

it('creates the admin from ADMIN_EMAIL / ADMIN_PASSWORD while no account is an admin', async () => {
  const { service, identities } = bootstrap(
    { NODE_ENV: 'production', ADMIN_EMAIL: 'a@example.test', ADMIN_PASSWORD: 'a long passphrase' },
    false,
  );
  await service.onApplicationBootstrap();
  expect(identities.register).toHaveBeenCalledWith(
    { email: 'a@example.test', password: 'a long passphrase', displayName: 'Administrator' },
    ['admin'],
  );
});

it('creates nothing once an admin exists, whatever its email', async () => {
  const { service, identities } = bootstrap(
    { NODE_ENV: 'production', ADMIN_EMAIL: 'a@example.test', ADMIN_PASSWORD: 'a long passphrase' },
    true,
  );
  await service.onApplicationBootstrap();
  expect(identities.register).not.toHaveBeenCalled();
});

it('starts in production without ADMIN_PASSWORD, logging that no admin exists', async () => {
  const { service, identities } = bootstrap({ NODE_ENV: 'production' }, false);
  await expect(service.onApplicationBootstrap()).resolves.toBeUndefined();
  expect(identities.register).not.toHaveBeenCalled();
  expect(Logger.prototype.error).toHaveBeenCalledWith(
    expect.stringMatching(/no account has the admin role/),
  );
});
