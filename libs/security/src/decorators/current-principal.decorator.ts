import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { authenticatedOf } from '../guards/principal-store';

/**
 * The verified caller (`Principal`: user, service, or delegated) of an HTTP route, gRPC
 * method or NATS handler. Undefined only on `@Public()` handlers.
 *
 * @example get(@CurrentPrincipal() caller: Principal) {}
 */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, context: ExecutionContext) => authenticatedOf(context)?.principal,
);

/**
 * The caller's CASL ability, built from the module's policies.
 *
 * @example list(@CurrentAbility() ability: AppAbility) { return accessibleBy(qb, ability, 'read', 'Item') }
 */
export const CurrentAbility = createParamDecorator((_data: unknown, context: ExecutionContext) =>
  authenticatedOf(context)?.ability(),
);
