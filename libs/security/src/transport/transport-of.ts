import { JetStreamContext } from '@app/platform';
import { Metadata } from '@grpc/grpc-js';
import type { ArgumentsHost } from '@nestjs/common';

export type Transport = 'http' | 'grpc' | 'nats' | 'unknown';

/** HTTP, gRPC (context is grpc Metadata) or NATS (context is a JetStreamContext); anything else is unknown and denied. */
export function transportOf(host: ArgumentsHost): Transport {
  const type = host.getType();
  if (type === 'http') return 'http';
  if (type !== 'rpc') return 'unknown';
  const context: unknown = host.switchToRpc().getContext();
  if (context instanceof JetStreamContext) return 'nats';
  if (context instanceof Metadata) return 'grpc';
  return 'unknown';
}

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/** RFC 6750 §2.1 credentials: `Bearer <b64token>`, nothing else. */
export function bearerToken(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  return BEARER.exec(value)?.[1];
}
