import { createServiceApp, type ServiceAppOptions } from '@app/platform';
import type { AuthConfig } from './auth.config';
import { AuthModule, type AuthModuleOverrides } from './auth.module';

export function authAppOptions(
  config: AuthConfig,
  options: AuthModuleOverrides & { quiet?: boolean } = {},
): ServiceAppOptions {
  return {
    serviceName: 'auth',
    module: AuthModule.forRoot(config, { clock: options.clock }),
    config,
    quiet: options.quiet,
    openApi: {
      title: 'auth',
      description: 'Authorization server: identities, tokens, clients, keys.',
    },
  };
}

export function createAuthApp(
  config: AuthConfig,
  options: AuthModuleOverrides & { quiet?: boolean } = {},
) {
  return createServiceApp(authAppOptions(config, options));
}
