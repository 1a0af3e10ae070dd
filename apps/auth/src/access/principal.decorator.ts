import type { AccessTokenClaims } from '@app/security';
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';

export interface AuthenticatedRequest {
  principal?: AccessTokenClaims;
}

/** The verified claims of the caller's access token (set by AccessTokenGuard). */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, context: ExecutionContext): AccessTokenClaims => {
    const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
    if (!principal) throw new Error('CurrentPrincipal used on a route without AccessTokenGuard');
    return principal;
  },
);
