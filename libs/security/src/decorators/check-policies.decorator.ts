import { UseInterceptors } from '@nestjs/common';
import { INTERCEPTORS_METADATA } from '@nestjs/common/constants';
import { PoliciesInterceptor } from '../guards/policies.interceptor';
import { appendMetadata, metadataTarget } from './appending-metadata';
import { checksSubject, POLICY_HANDLERS, type PolicyHandler } from './policy-handlers';

export type { PolicyHandler } from './policy-handlers';

/**
 * CASL checks of a route, gRPC method or NATS handler (class and method lists add up, and so do
 * stacked decorators: every check given applies).
 *
 * @example
 * @CheckPolicies((ability) => ability.can('list', 'Item'))
 * @example
 * @CheckPolicies((ability, item: Item) => ability.can('read', item))
 *
 * The two-parameter form runs in a Nest interceptor, and every interceptor call costs a request
 * two `AsyncResource.bind` calls, which on Node 20 build deprecation wrappers (DEP0172,
 * nodejs/node#58218): the route served 0.37x the requests of a public route, against 0.73x for
 * the same check made with `authorize()` (bench/security.bench.ts). On routes that matter, take
 * `@CurrentAbility()` and call `authorize(ability, 'read', object)` instead.
 */
export function CheckPolicies(...handlers: PolicyHandler[]): MethodDecorator & ClassDecorator {
  if (handlers.length === 0 || !handlers.every((h) => typeof h === 'function')) {
    throw new TypeError('@CheckPolicies: give one or more functions');
  }
  // Only routes that check their result get the interceptor: a global one would cost every
  // request of the service (Nest binds each interceptor call to an AsyncResource).
  const addHandlers = appendMetadata(POLICY_HANDLERS, handlers);
  if (!handlers.some(checksSubject)) return addHandlers;
  const addInterceptor = UseInterceptors(PoliciesInterceptor);
  return (target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => {
    addHandlers(target, key!, descriptor!);
    // Once per target: it runs every result-checking handler of the route.
    const interceptors = Reflect.getMetadata(
      INTERCEPTORS_METADATA,
      metadataTarget(target, descriptor),
    ) as unknown[] | undefined;
    if (!interceptors?.includes(PoliciesInterceptor)) addInterceptor(target, key!, descriptor!);
  };
}
