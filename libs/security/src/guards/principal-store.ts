import type { ExecutionContext } from '@nestjs/common';
import type { AppAbility } from '../casl/policy';
import type { Principal } from '../token/principal';

interface Authenticated {
  principal: Principal;
  ability: () => AppAbility;
}

/**
 * The principal of the call in progress, keyed by the transport's per-call object (the HTTP
 * request, the gRPC Metadata, the JetStreamContext), so nothing is shared between calls.
 */
const store = new WeakMap<object, Authenticated>();

function keyOf(context: ExecutionContext): object | undefined {
  const key: unknown =
    context.getType() === 'http'
      ? context.switchToHttp().getRequest()
      : context.switchToRpc().getContext();
  return typeof key === 'object' && key !== null ? key : undefined;
}

export function rememberPrincipal(context: ExecutionContext, value: Authenticated): void {
  const key = keyOf(context);
  if (key) store.set(key, value);
}

export function authenticatedOf(context: ExecutionContext): Authenticated | undefined {
  const key = keyOf(context);
  return key ? store.get(key) : undefined;
}
