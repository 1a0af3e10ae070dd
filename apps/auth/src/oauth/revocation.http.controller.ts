import { Public } from '@app/platform';
import { Body, Controller, HttpCode, Inject, Post, Req, Res, UseFilters } from '@nestjs/common';
import { ApiConsumes, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DataSource } from 'typeorm';
import { CLOCK, type Clock } from '../common/clock';
import { RevocationService } from '../revocations/revocation.service';
import { RefreshTokenFamily } from '../sessions/refresh-token-family';
import { AccessTokenVerifier } from '../tokens/access-token.verifier';
import { USER_TOKEN_CLIENT_ID } from '../tokens/token.constants';
import { ClientAuthenticator } from './client-authenticator';
import { singleValued } from './form-body';
import { NO_STORE, OAuthExceptionFilter } from './oauth-exception.filter';
import { OAuthError } from './oauth.error';

/**
 * RFC 7009. Service clients authenticate and may revoke tokens issued to them; the public web
 * client (no secret, RFC 7009 §2.1) may revoke user tokens and refresh tokens it holds. An
 * invalid or unknown token is a 200 (§2.2): the caller learns nothing.
 */
@ApiTags('oauth')
@Controller('oauth')
@UseFilters(OAuthExceptionFilter)
export class RevocationHttpController {
  constructor(
    private readonly authenticator: ClientAuthenticator,
    private readonly verifier: AccessTokenVerifier,
    private readonly revocations: RevocationService,
    private readonly families: RefreshTokenFamily,
    private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Public()
  @Post('revoke')
  @HttpCode(200)
  @ApiConsumes('application/x-www-form-urlencoded')
  async revoke(
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    const params = singleValued(body);
    if (!params.token) throw new OAuthError('invalid_request', 'token is required');
    const authorization = ClientAuthenticator.authorizationOf(request);
    const client = ClientAuthenticator.presented(authorization, params)
      ? await this.authenticator.authenticate(authorization, params, request.ip)
      : null;
    reply.headers(NO_STORE);
    if (!params.token.includes('.')) {
      // Opaque: a refresh token. Possessing its 256 random bits is proof enough.
      await this.families.revokeByToken(params.token);
      return;
    }
    let claims;
    try {
      claims = await this.verifier.verify(params.token, { allowExpired: true });
    } catch {
      return;
    }
    const owner = claims.act?.sub ?? claims.client_id;
    const mayRevoke = client ? owner === client.clientId : owner === USER_TOKEN_CLIENT_ID;
    if (!mayRevoke) {
      throw new OAuthError('unauthorized_client', 'the token was not issued to this client');
    }
    if (claims.exp * 1000 <= this.clock.now()) return;
    await this.dataSource.transaction((manager) =>
      this.revocations.revokeAccessToken(manager, claims),
    );
  }
}
