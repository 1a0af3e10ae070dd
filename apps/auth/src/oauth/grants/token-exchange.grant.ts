import { TokenVerifier, type AccessTokenClaims } from '@app/security';
import { Inject, Injectable } from '@nestjs/common';
import { GRANT_TOKEN_EXCHANGE, type OAuthClient } from '../../clients/oauth-client';
import { CLOCK, type Clock } from '../../common/clock';
import { RevocationService } from '../../revocations/revocation.service';
import { AccessTokenIssuer } from '../../tokens/access-token.issuer';
import { OAuthError } from '../oauth.error';
import { grantedScope, targetAudience } from './target-audience';
import type { TokenGrant, TokenResponse } from './token-grant';

export const ACCESS_TOKEN_TYPE_URN = 'urn:ietf:params:oauth:token-type:access_token';

/**
 * RFC 8693: a service turns a user's access token, which was addressed to it, into a token for
 * another service that still names the user (`sub`) and the service (`act`). The scope is never
 * wider than the user's, nor than the client's own allowance for that audience.
 */
@Injectable()
export class TokenExchangeGrant implements TokenGrant {
  readonly grantType = GRANT_TOKEN_EXCHANGE;

  constructor(
    private readonly issuer: AccessTokenIssuer,
    /** @app/security's verifier (ownTokenVerifier), as every resource server's guard. */
    private readonly verifier: TokenVerifier,
    private readonly revocations: RevocationService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async handle(client: OAuthClient, params: Record<string, string>): Promise<TokenResponse> {
    if (!client.grantTypes.includes(this.grantType)) {
      throw new OAuthError('unauthorized_client', 'the client may not use token exchange');
    }
    if (!params.subject_token) throw new OAuthError('invalid_request', 'subject_token is required');
    if (params.subject_token_type !== ACCESS_TOKEN_TYPE_URN) {
      throw new OAuthError('invalid_request', 'subject_token_type must be an access token');
    }
    if (
      params.requested_token_type !== undefined &&
      params.requested_token_type !== ACCESS_TOKEN_TYPE_URN
    ) {
      throw new OAuthError('invalid_request', 'only access tokens can be requested');
    }
    if (params.actor_token !== undefined || params.actor_token_type !== undefined) {
      throw new OAuthError(
        'invalid_request',
        'actor_token is not supported; the client is the actor',
      );
    }
    const audience = targetAudience(client, params);
    let subject: AccessTokenClaims;
    try {
      // Only a token addressed to the requesting service can be exchanged by it.
      ({ claims: subject } = await this.verifier.verify(params.subject_token, {
        audience: client.clientId,
        currentDate: new Date(this.clock.now()),
      }));
    } catch {
      throw new OAuthError('invalid_grant', 'subject_token is invalid or expired');
    }
    if (!subject.roles || !subject.sid || subject.act) {
      throw new OAuthError('invalid_grant', "subject_token must be a user's own access token");
    }
    if (await this.revocations.isRevoked(subject)) {
      throw new OAuthError('invalid_grant', 'subject_token is revoked');
    }
    const userScopes = subject.scope.split(' ');
    const allowed = client.scopes.filter((scope) => userScopes.includes(scope));
    const scope = grantedScope(allowed, audience, params.scope);
    const issued = await this.issuer.issueDelegated(subject, client.clientId, audience, scope);
    if (issued.expiresIn <= 0) throw new OAuthError('invalid_grant', 'subject_token is expired');
    return {
      access_token: issued.token,
      issued_token_type: ACCESS_TOKEN_TYPE_URN,
      token_type: 'Bearer',
      expires_in: issued.expiresIn,
      scope,
    };
  }
}
