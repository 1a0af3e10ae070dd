import { Injectable } from '@nestjs/common';
import { GRANT_CLIENT_CREDENTIALS, type OAuthClient } from '../../clients/oauth-client';
import { AccessTokenIssuer } from '../../tokens/access-token.issuer';
import { OAuthError } from '../oauth.error';
import { grantedScope, targetAudience } from './target-audience';
import type { TokenGrant, TokenResponse } from './token-grant';

/** RFC 6749 §4.4: a service's own token, for one audience, with scopes it is allowed. */
@Injectable()
export class ClientCredentialsGrant implements TokenGrant {
  readonly grantType = GRANT_CLIENT_CREDENTIALS;

  constructor(private readonly issuer: AccessTokenIssuer) {}

  async handle(client: OAuthClient, params: Record<string, string>): Promise<TokenResponse> {
    if (!client.grantTypes.includes(this.grantType)) {
      throw new OAuthError('unauthorized_client', 'the client may not use client_credentials');
    }
    const audience = targetAudience(client, params);
    const scope = grantedScope(client.scopes, audience, params.scope);
    const issued = await this.issuer.issueForService(client.clientId, audience, scope);
    return {
      access_token: issued.token,
      token_type: 'Bearer',
      expires_in: issued.expiresIn,
      scope,
    };
  }
}
