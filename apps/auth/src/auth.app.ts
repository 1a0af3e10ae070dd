import { createServiceApp, type ServiceAppOptions } from '@app/platform';
import type { AuthConfig } from './auth.config';
import { AuthModule, type AuthModuleOverrides } from './auth.module';

/** The token endpoint is a Fastify route (see TokenEndpoint): described here for /docs. */
const TOKEN_ENDPOINT_OPENAPI = {
  post: {
    tags: ['oauth'],
    summary:
      'RFC 6749 token endpoint: client_credentials and RFC 8693 token exchange; client authentication client_secret_basic or private_key_jwt',
    requestBody: {
      required: true,
      content: {
        'application/x-www-form-urlencoded': {
          schema: {
            type: 'object',
            required: ['grant_type'],
            properties: {
              grant_type: { type: 'string' },
              scope: { type: 'string' },
              audience: { type: 'string' },
              resource: { type: 'string' },
              subject_token: { type: 'string' },
              subject_token_type: { type: 'string' },
              client_assertion: { type: 'string' },
              client_assertion_type: { type: 'string' },
            },
          },
        },
      },
    },
    responses: {
      '200': { description: '{access_token, token_type, expires_in, scope[, issued_token_type]}' },
      '400': { description: 'RFC 6749 §5.2 {error, error_description}' },
      '401': { description: 'invalid_client' },
    },
  },
};

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
      paths: { '/oauth/token': TOKEN_ENDPOINT_OPENAPI },
    },
  };
}

export function createAuthApp(
  config: AuthConfig,
  options: AuthModuleOverrides & { quiet?: boolean } = {},
) {
  return createServiceApp(authAppOptions(config, options));
}
