import { Public } from '@app/platform';
import type { AccessTokenClaims } from '@app/security';
import { Body, Controller, Header, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal } from '../access/principal.decorator';
import { ChangePasswordDto } from './dto/change-password.dto';
import { LoginMfaDto } from './dto/login-mfa.dto';
import { LoginDto } from './dto/login.dto';
import { clearRefreshCookie, readRefreshCookie, setRefreshCookie } from './refresh-cookie';
import { SameSiteRequestGuard } from './same-site-request.guard';
import { SessionsService, type SessionTokens } from './sessions.service';
import { ApiError } from '@app/platform';

@ApiTags('auth')
@Controller('auth')
export class SessionsHttpController {
  constructor(private readonly sessions: SessionsService) {}

  // A cross-site page must not log the browser in (login CSRF): a form it posts would replace
  // the victim's refresh cookie with one of the attacker's account, even under SameSite=Strict.
  @Public()
  @UseGuards(SameSiteRequestGuard)
  @Post('login')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  async login(
    @Body() body: LoginDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    // request.ip honours TRUST_PROXY: X-Forwarded-For counts only from a trusted proxy.
    const outcome = await this.sessions.login(body.email, body.password, request.ip);
    if (outcome.mfaRequired) return { mfaRequired: true, mfaToken: outcome.mfaToken };
    return this.withCookie(reply, outcome.tokens);
  }

  @Public()
  @UseGuards(SameSiteRequestGuard)
  @Post('login/mfa')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  async loginMfa(
    @Body() body: LoginMfaDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.withCookie(
      reply,
      await this.sessions.loginMfa(body.mfaToken, body.code, request.ip),
    );
  }

  @Public()
  @UseGuards(SameSiteRequestGuard)
  @Post('refresh')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  async refresh(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const token = readRefreshCookie(request);
    if (!token) {
      throw new ApiError(401, 'refresh token is invalid or expired', {
        headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
      });
    }
    return this.withCookie(reply, await this.sessions.refresh(token));
  }

  @Public()
  @UseGuards(SameSiteRequestGuard)
  @Post('logout')
  @HttpCode(204)
  @Header('Cache-Control', 'no-store')
  async logout(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    await this.sessions.logout(readRefreshCookie(request));
    clearRefreshCookie(reply);
  }

  @ApiBearerAuth()
  @Post('password')
  @HttpCode(204)
  @Header('Cache-Control', 'no-store')
  async changePassword(
    @CurrentPrincipal() principal: AccessTokenClaims,
    @Body() body: ChangePasswordDto,
  ) {
    await this.sessions.changePassword(principal, body.currentPassword, body.newPassword);
  }

  private withCookie(reply: FastifyReply, tokens: SessionTokens) {
    setRefreshCookie(reply, tokens.refresh.token, tokens.refresh.maxAge);
    return tokens.body;
  }
}
