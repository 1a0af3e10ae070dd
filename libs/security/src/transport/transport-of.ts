import { JetStreamContext } from '@app/platform';
import { Metadata } from '@grpc/grpc-js';
import type { ArgumentsHost } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';

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

/** What `httpBearerToken` reads: a Fastify request (`raw` is Node's message) or Node's message. */
export interface HttpRequestHeaders {
  headers?: Record<string, unknown>;
  raw?: Pick<IncomingMessage, 'rawHeaders'>;
  rawHeaders?: readonly string[];
}

/**
 * The access token of an HTTP request: exactly one Authorization field, holding
 * `Bearer <b64token>` and nothing else (the gRPC guard likewise wants one `authorization`
 * entry). Node keeps only the first of several fields in `headers`, and a proxy that reads the
 * last would disagree with the service on who is calling. Never a query string or a body.
 */
export function httpBearerToken(request: HttpRequestHeaders): string | undefined {
  const rawHeaders = request.raw?.rawHeaders ?? request.rawHeaders;
  if (rawHeaders && authorizationFields(rawHeaders) !== 1) return undefined;
  return bearerToken(request.headers?.authorization);
}

/** How many Authorization fields a request carried, whatever their case. */
function authorizationFields(rawHeaders: readonly string[]): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    if (name.length === 13 && name.toLowerCase() === 'authorization') count++;
  }
  return count;
}

/**
 * The access token of a NATS message: exactly one Authorization header (names compared without
 * case), holding `Bearer <b64token>`; a message carrying two is refused, as an HTTP request or a
 * gRPC call carrying two is.
 */
export function messageBearerToken(message: JetStreamContext): string | undefined {
  const values = message.getHeaderValues('Authorization');
  return values.length === 1 ? bearerToken(values[0]) : undefined;
}

/**
 * The access token of a gRPC call: exactly one `authorization` metadata entry, holding
 * `Bearer <b64token>`; two would let a proxy and the service disagree on the caller.
 * Over the network this count is always one: Node's HTTP/2 layer keeps the first
 * `authorization` field of a request and drops the others before grpc-js builds the metadata.
 * So the service acts on the first; a proxy in front must not pick another (or forward two).
 */
export function grpcBearerToken(metadata: Metadata): string | undefined {
  const values = metadata.get('authorization');
  return values.length === 1 ? bearerToken(values[0]) : undefined;
}
