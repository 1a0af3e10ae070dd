import { ApiError, Public } from '@app/platform';
import { httpBearerToken, TokenVerifier } from '@app/security';
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

/**
 * auth's own resource-server guard, global (APP_GUARD): every HTTP route needs a valid user
 * token for audience "auth" unless it is @Public(). Tokens are verified by `@app/security`'s
 * TokenVerifier (see own-token-verifier.ts); revocation is read from auth's own tables, which
 * are the source of the broadcast, so it holds on this replica without waiting for NATS.
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
    if (this.reflector.getAllAndOverride(Public, [context.getHandler(), context.getClass()])) {
      return true;
    }
    return this.authenticate(
      context.switchToHttp().getRequest<FastifyRequest & AuthenticatedRequest>(),
    );
  }

  private async authenticate(request: FastifyRequest & AuthenticatedRequest): Promise<boolean> {
    // The rule of every service (RFC 6750 §2.1, one Authorization field): never the query
    // string or the body.
    const token = httpBearerToken(request);
    if (!token) {
      throw refusal('a bearer token is required');
    }
    try {
      const { claims } = await this.verifier.verify(token, {
        audience: AUTH_AUDIENCE,
        currentDate: new Date(this.clock.now()),
      });
      if (await this.revocations.isRevoked(claims)) throw new Error('revoked');
      request.principal = claims;
      return true;
    } catch (error) {
      this.audit.record('client_auth', 'failure', {
        reason: (error as { code?: string }).code ?? 'revoked',
        ip: request.ip,
      });
      throw refusal('the access token is invalid, expired or revoked', 'invalid_token');
    }
  }
}
