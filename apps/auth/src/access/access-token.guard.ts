import { ApiError, Public } from '@app/platform';
import {
  bearerChallenge,
  httpBearerToken,
  isRecentAuth,
  recentAuthMaxAgeOf,
  SecurityError,
  TokenVerifier,
  type AccessTokenClaims,
} from '@app/security';
import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { AuditService } from '../audit/audit.service';
import { RevocationService } from '../revocations/revocation.service';
import { CLOCK, type Clock } from '../common/clock';
import { AUTH_AUDIENCE } from '../tokens/token.constants';
import type { AuthenticatedRequest } from './principal.decorator';

const challenge = (error?: string) =>
  error ? `Bearer realm="auth", error="${error}"` : 'Bearer realm="auth"';

/** A refusal, `no-store` like every auth response (SPEC §6). */
const refusal = (message: string, error?: string) =>
  new ApiError(401, message, {
    headers: { 'WWW-Authenticate': challenge(error), 'Cache-Control': 'no-store' },
  });

/** RFC 9470 §3: a valid token whose user authenticated too long ago for this route. */
const stepUpRefusal = (maxAgeSeconds: number) => {
  const error = new SecurityError(
    'INSUFFICIENT_USER_AUTHENTICATION',
    'a more recent authentication is required',
    { maxAgeSeconds },
  );
  return new ApiError(401, error.message, {
    code: error.code,
    headers: { 'WWW-Authenticate': bearerChallenge(error, 'auth')!, 'Cache-Control': 'no-store' },
  });
};

/**
 * auth's own resource-server guard, global (APP_GUARD): every HTTP route needs a valid user
 * token for audience "auth" unless it is @Public(). Tokens are verified by `@app/security`'s
 * TokenVerifier (see own-token-verifier.ts); revocation is read from auth's own tables, which
 * are the source of the broadcast, so it holds on this replica without waiting for NATS.
 * A route with `@RequireRecentAuth(n)` also needs `auth_time` at most n seconds old.
 */
@Injectable()
export class AccessTokenGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
    private readonly revocations: RevocationService,
    private readonly audit: AuditService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Synchronous for public routes and messages: Nest awaits only a returned promise. */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (context.getType() === 'rpc') return true; // EventTokenGuard's side.
    if (context.getType() !== 'http') return false;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride(Public, targets)) {
      return true;
    }
    return this.authenticate(
      context.switchToHttp().getRequest<FastifyRequest & AuthenticatedRequest>(),
      // @RequireRecentAuth, which @app/security's SecurityGuard enforces elsewhere: auth does not
      // use that guard (it verifies its own tokens against its own tables), so it reads the
      // same decorator here: one step-up decorator for every service.
      recentAuthMaxAgeOf(this.reflector, context.getHandler(), context.getClass()),
    );
  }

  private async authenticate(
    request: FastifyRequest & AuthenticatedRequest,
    recentAuthMaxAge: number | undefined,
  ): Promise<boolean> {
    // The rule of every service (RFC 6750 §2.1, one Authorization field): never the query
    // string or the body.
    const token = httpBearerToken(request);
    if (!token) {
      throw refusal('a bearer token is required');
    }
    let claims: AccessTokenClaims;
    try {
      ({ claims } = await this.verifier.verify(token, {
        audience: AUTH_AUDIENCE,
        currentDate: new Date(this.clock.now()),
      }));
      if (await this.revocations.isRevoked(claims)) throw new Error('revoked');
    } catch (error) {
      this.audit.record('client_auth', 'failure', {
        reason: (error as { code?: string }).code ?? 'revoked',
        ip: request.ip,
      });
      throw refusal('the access token is invalid, expired or revoked', 'invalid_token');
    }
    // Judged by auth's clock, the one that stamped `auth_time` at login.
    const now = this.clock.now() / 1000;
    if (recentAuthMaxAge !== undefined && !isRecentAuth(claims.auth_time, recentAuthMaxAge, now)) {
      throw stepUpRefusal(recentAuthMaxAge);
    }
    request.principal = claims;
    return true;
  }
}
