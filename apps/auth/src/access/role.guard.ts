import { ApiError } from '@app/platform';
import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { AuthenticatedRequest } from './principal.decorator';
import { RequireRole } from './require-role.decorator';

/** Deny by default: a route under this guard without @RequireRole is refused. */
@Injectable()
export class RoleGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const role = this.reflector.getAllAndOverride(RequireRole, [
      context.getHandler(),
      context.getClass(),
    ]);
    const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
    // Only a user's own token counts: a delegated (act) token never carries admin rights.
    if (!role || !principal?.roles?.includes(role) || principal.act) {
      throw new ApiError(403, 'forbidden', { headers: { 'Cache-Control': 'no-store' } });
    }
    return true;
  }
}
