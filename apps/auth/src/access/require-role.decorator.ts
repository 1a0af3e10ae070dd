import type { Role } from '@app/security';
import { Reflector } from '@nestjs/core';

/** Routes only a user with this role may call (checked by RoleGuard). */
export const RequireRole = Reflector.createDecorator<Role>();
