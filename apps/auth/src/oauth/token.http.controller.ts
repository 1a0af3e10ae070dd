import { Public } from '@app/platform';
import { Controller, HttpCode, Post, Req, Res, UseFilters } from '@nestjs/common';
import { ApiConsumes, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ClientAuthenticator } from './client-authenticator';
import { isFormContentType, singleValued } from './form-body';
import { ClientCredentialsGrant } from './grants/client-credentials.grant';
import type { TokenGrant, TokenResponse } from './grants/token-grant';
import { TokenExchangeGrant } from './grants/token-exchange.grant';
import { NO_STORE, OAuthExceptionFilter } from './oauth-exception.filter';
import { OAuthError } from './oauth.error';

/** RFC 6749 §3.2 token endpoint. Errors: RFC 6749 §5.2 bodies (OAuthExceptionFilter). */
@ApiTags('oauth')
@Controller('oauth')
@UseFilters(OAuthExceptionFilter)
export class TokenHttpController {
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

  @Public()
  @Post('token')
  @HttpCode(200)
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiOkResponse({ description: '{access_token, token_type, expires_in, scope}' })
  async token(
    // The raw request, not @Body()/@Headers(): each Nest parameter decorator costs a request
    // several promises (bench/auth-token-endpoint.bench.ts), and nothing here needs pipes.
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokenResponse> {
    const { body } = request;
    const { 'content-type': contentType, authorization } = request.headers;
    if (!isFormContentType(contentType)) {
      throw new OAuthError('invalid_request', 'the body must be application/x-www-form-urlencoded');
    }
    const params = singleValued(body);
    if (!params.grant_type) throw new OAuthError('invalid_request', 'grant_type is required');
    const grant = this.grants.get(params.grant_type);
    if (!grant) {
      throw new OAuthError('unsupported_grant_type', 'the grant type is not supported');
    }
    const client = await this.authenticator.authenticate(authorization, params, request.ip);
    const response = await grant.handle(client, params, request.ip);
    reply.headers(NO_STORE);
    return response;
  }
}
