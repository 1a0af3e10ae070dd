import { Reflector } from '@nestjs/core';
import { appendMetadata } from './appending-metadata';

/** @internal metadata of `@Scopes` */
export const REQUIRED_SCOPES = Reflector.createDecorator<string[]>();

/**
 * Requires every listed scope in the caller's token (class and method lists add up, and so do
 * stacked decorators).
 * A user's own token rarely has service scopes, so this makes an endpoint service-only.
 *
 * @example @Scopes('orders:read') @GrpcMethod('OrdersService', 'CountOpenOrders') count() {}
 */
export function Scopes(...scopes: string[]): MethodDecorator & ClassDecorator {
  if (scopes.length === 0 || !scopes.every((s) => typeof s === 'string' && /^\S+$/.test(s))) {
    throw new TypeError('@Scopes: give one or more scope names without spaces');
  }
  return appendMetadata(REQUIRED_SCOPES, scopes);
}
