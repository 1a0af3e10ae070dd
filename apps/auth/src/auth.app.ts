import { createServiceApp, type ServiceAppOptions } from '@app/platform';
import type { AuthConfig } from './auth.config';
import { AuthModule } from './auth.module';

export function authAppOptions(config: AuthConfig): ServiceAppOptions {
  return {
    serviceName: 'auth',
    module: AuthModule.forRoot(config),
    config,
    openApi: {
      title: 'auth',
      description: 'Authorization server: identities, tokens, clients, keys.',
    },
  };
}

export function createAuthApp(config: AuthConfig) {
  return createServiceApp(authAppOptions(config));
}
