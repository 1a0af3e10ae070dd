import { applyDecorators, UseInterceptors } from '@nestjs/common';
import { PoliciesInterceptor } from '../guards/policies.interceptor';
import { checksSubject, POLICY_HANDLERS, type PolicyHandler } from './policy-handlers';

export type { PolicyHandler } from './policy-handlers';

/**
 * CASL checks of a route, gRPC method or NATS handler (class and method lists add up).
 *
 * @example
 * @CheckPolicies((ability) => ability.can('list', 'Item'))
 * @example
 * @CheckPolicies((ability, item: Item) => ability.can('read', item))
 */
export function CheckPolicies(...handlers: PolicyHandler[]): MethodDecorator & ClassDecorator {
  if (handlers.length === 0 || !handlers.every((h) => typeof h === 'function')) {
    throw new TypeError('@CheckPolicies: give one or more functions');
  }
  // Only routes that check their result get the interceptor: a global one would cost every
  // request of the service (Nest binds each interceptor call to an AsyncResource).
  if (!handlers.some(checksSubject)) return POLICY_HANDLERS(handlers);
  return applyDecorators(POLICY_HANDLERS(handlers), UseInterceptors(PoliciesInterceptor));
}
