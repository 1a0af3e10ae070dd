import { Public } from '@app/platform';
import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ALLOWED_ALGORITHMS } from '@app/security';
import { AUTH_CONFIG, type AuthConfig } from '../auth.config';
import { SUPPORTED_GRANTS } from '../clients/oauth-client';

/** RFC 8414 authorization server metadata. */
@ApiTags('oauth')
@Controller('.well-known')
export class MetadataHttpController {
  private readonly metadata: Record<string, unknown>;

  constructor(@Inject(AUTH_CONFIG) config: AuthConfig) {
    const base = config.AUTH_ISSUER.replace(/\/$/, '');
    this.metadata = {
      issuer: config.AUTH_ISSUER,
      token_endpoint: `${base}/oauth/token`,
      jwks_uri: `${base}/.well-known/jwks.json`,
      revocation_endpoint: `${base}/oauth/revoke`,
      // No authorization endpoint: users log in through /auth/login (first-party API).
      response_types_supported: [],
      grant_types_supported: [...SUPPORTED_GRANTS],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: [...ALLOWED_ALGORITHMS],
      revocation_endpoint_auth_methods_supported: [
        'client_secret_basic',
        'private_key_jwt',
        'none',
      ],
      revocation_endpoint_auth_signing_alg_values_supported: [...ALLOWED_ALGORITHMS],
      scopes_supported: [
        'users:read',
        'users:write',
        'orders:read',
        'orders:write',
        'events:publish',
      ],
      service_documentation: `${base}/docs`,
    };
  }

  @Public()
  @Get('oauth-authorization-server')
  @Header('Cache-Control', 'no-store')
  get() {
    return this.metadata;
  }
}
