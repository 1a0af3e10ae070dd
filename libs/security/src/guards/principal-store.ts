import type { ExecutionContext } from '@nestjs/common';
import type { AppAbility } from '../casl/policy';
import type { Principal } from '../token/principal';

interface Authenticated {
  principal: Principal;
  ability: () => AppAbility;
}

/**
 * The principal of the call in progress, kept on the transport's per-call object (the HTTP
 * request, the gRPC Metadata, the JetStreamContext), so nothing is shared between calls. The
 * key is a symbol private to this module: no caller input and no other code can set it. (A
 * property rather than a WeakMap entry: a WeakMap keyed by short-lived objects costs every
 * garbage collection ephemeron work.)
 */
const AUTHENTICATED = Symbol('authenticated caller');

type Carrier = { [AUTHENTICATED]?: Authenticated };

function carrierOf(context: ExecutionContext): Carrier | undefined {
  // switchToHttp().getRequest() and switchToRpc().getContext(), without the closures those
  // attach to the context on every call.
  const carrier: unknown = context.getArgByIndex(context.getType() === 'http' ? 0 : 1);
  return typeof carrier === 'object' && carrier !== null ? (carrier as Carrier) : undefined;
}

export function rememberPrincipal(context: ExecutionContext, value: Authenticated): void {
  const carrier = carrierOf(context);
  if (carrier) carrier[AUTHENTICATED] = value;
}

export function authenticatedOf(context: ExecutionContext): Authenticated | undefined {
  return carrierOf(context)?.[AUTHENTICATED];
}
