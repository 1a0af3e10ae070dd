import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { metadataTarget } from './appending-metadata';

/** @internal metadata of `@RequireRecentAuth` */
export const RECENT_AUTH_MAX_AGE = Reflector.createDecorator<number>();

/**
 * RFC 9470 step-up: the user must have authenticated (`auth_time`) at most `maxAgeSeconds`
 * ago. Otherwise 401 `WWW-Authenticate: Bearer error="insufficient_user_authentication",
 * max_age=<n>` (gRPC: UNAUTHENTICATED). Service callers are refused (403).
 *
 * @example @RequireRecentAuth(300) @Delete('me') deleteMe() {}
 */
export function RequireRecentAuth(maxAgeSeconds: number): MethodDecorator & ClassDecorator {
  if (!Number.isInteger(maxAgeSeconds) || maxAgeSeconds < 0) {
    throw new TypeError('@RequireRecentAuth: maxAgeSeconds must be a non-negative integer');
  }
  return (target: object, _key?: string | symbol, descriptor?: PropertyDescriptor) => {
    // Stacked on one target, the stricter (shorter) age applies, never the last one written.
    const on = metadataTarget(target, descriptor);
    const existing = Reflect.getMetadata(RECENT_AUTH_MAX_AGE.KEY, on) as number | undefined;
    Reflect.defineMetadata(
      RECENT_AUTH_MAX_AGE.KEY,
      existing === undefined ? maxAgeSeconds : Math.min(existing, maxAgeSeconds),
      on,
    );
  };
}

/**
 * The `@RequireRecentAuth` max age of a handler: the shorter of the method's and its class's
 * (a method cannot loosen its controller's rule); undefined when neither has one. For a guard
 * of its own (auth's) that enforces the same decorator.
 */
export function recentAuthMaxAgeOf(
  reflector: Reflector,
  handler: ReturnType<ExecutionContext['getHandler']>,
  controller: ReturnType<ExecutionContext['getClass']>,
): number | undefined {
  const declared = reflector
    .getAll(RECENT_AUTH_MAX_AGE, [handler, controller])
    .filter((age): age is number => age !== undefined);
  return declared.length === 0 ? undefined : Math.min(...declared);
}

/**
 * The rule `@RequireRecentAuth` enforces: a login at `authTime` (NumericDate) is at most
 * `maxAgeSeconds` old at `nowSeconds`. A token without `auth_time` is never recent.
 */
export function isRecentAuth(
  authTime: number | undefined,
  maxAgeSeconds: number,
  nowSeconds: number,
): boolean {
  return authTime !== undefined && nowSeconds - authTime <= maxAgeSeconds;
}
