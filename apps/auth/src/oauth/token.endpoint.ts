import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ClientAuthenticator } from './client-authenticator';
import { isFormContentType, singleValued } from './form-body';
import { ClientCredentialsGrant } from './grants/client-credentials.grant';
import type { TokenGrant, TokenResponse } from './grants/token-grant';
import { TokenExchangeGrant } from './grants/token-exchange.grant';
import { OAuthError } from './oauth.error';

/**
 * RFC 6749 §3.2 token endpoint: authenticates the client (ClientAuthenticator) and hands the
 * request to its grant. Served as a Fastify route by OAuthHttpSetup, not by a Nest controller:
 * it is public by protocol (client authentication is its own first step) and uses no guard,
 * pipe or interceptor, while Nest's route pipeline cost every token request about 25 promises,
 * each dear under Node 20's async hooks (bench/auth-token-endpoint.bench.ts). Throws OAuthError.
 */
@Injectable()
export class TokenEndpoint {
  private readonly grants: Map<string, TokenGrant>;

  constructor(
    private readonly authenticator: ClientAuthenticator,
    clientCredentials: ClientCredentialsGrant,
    tokenExchange: TokenExchangeGrant,
  ) {
    this.grants = new Map(
      [clientCredentials, tokenExchange].map((grant) => [grant.grantType, grant]),
    );
  }

  async handle(request: FastifyRequest): Promise<TokenResponse> {
    const contentType = request.headers['content-type'];
    if (!isFormContentType(contentType)) {
      throw new OAuthError('invalid_request', 'the body must be application/x-www-form-urlencoded');
    }
    const params = singleValued(request.body);
    if (!params.grant_type) throw new OAuthError('invalid_request', 'grant_type is required');
    const grant = this.grants.get(params.grant_type);
    if (!grant) {
      throw new OAuthError('unsupported_grant_type', 'the grant type is not supported');
    }
    const authorization = ClientAuthenticator.authorizationOf(request);
    const client = await this.authenticator.authenticate(authorization, params, request.ip);
    return grant.handle(client, params, request.ip);
  }
}
