import { Reflector } from '@nestjs/core';
import type { AppAbility } from '../casl/policy';

/**
 * A policy check. One parameter: checked by the guard before the handler runs. Two
 * parameters: checked against the object the handler returns (a loaded entity), and a refusal
 * is NOT_FOUND (404), so a caller who may not see an object cannot learn it exists.
 */
export type PolicyHandler =
  | ((ability: AppAbility) => boolean)
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  | ((ability: AppAbility, subject: any) => boolean);

/** @internal metadata of `@CheckPolicies` */
export const POLICY_HANDLERS = Reflector.createDecorator<PolicyHandler[]>();

/** Whether a policy handler is checked against the handler's result rather than up front. */
export function checksSubject(handler: PolicyHandler): boolean {
  return handler.length >= 2;
}
