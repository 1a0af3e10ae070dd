import { ApiError } from '@app/platform';
import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AUTH_CONFIG, type AuthConfig } from '../auth.config';

/**
 * Cookie-authenticated routes (refresh, logout) refuse cross-site requests: SameSite=Strict
 * already keeps the cookie off them in modern browsers; this also covers browsers and
 * same-site-but-cross-origin cases it does not (defence in depth, OWASP CSRF cheat sheet).
 * A request without Origin and Sec-Fetch-Site is not a browser's cross-site request.
 */
@Injectable()
export class SameSiteRequestGuard implements CanActivate {
  private readonly allowed: Set<string>;

  constructor(@Inject(AUTH_CONFIG) config: AuthConfig) {
    this.allowed = new Set([new URL(config.AUTH_ISSUER).origin, ...config.CORS_ORIGINS]);
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const origin = request.headers.origin;
    const fetchSite = request.headers['sec-fetch-site'];
    if (fetchSite === 'cross-site' || (origin !== undefined && !this.allowed.has(origin))) {
      throw new ApiError(403, 'cross-site request refused');
    }
    return true;
  }
}
