import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** What travels with one unit of work (HTTP request, gRPC call, NATS message). */
export interface RequestContext {
  requestId: string;
}

/** Header (HTTP, NATS) and metadata key (gRPC) carrying the request id between services. */
export const REQUEST_ID_HEADER = 'x-request-id';

const storage = new AsyncLocalStorage<RequestContext>();

// A caller-supplied id is kept only if it is short and plain, so it cannot flood or forge log lines.
const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Returns the caller's request id when acceptable, otherwise a new one. */
export function acceptRequestId(candidate: unknown): string {
  const value = Array.isArray(candidate) ? candidate[0] : candidate;
  if (typeof value === 'string' && ACCEPTABLE_REQUEST_ID.test(value)) return value;
  return randomUUID();
}

export function runWithRequestContext<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** The request id of the work in progress, if any. */
export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}
