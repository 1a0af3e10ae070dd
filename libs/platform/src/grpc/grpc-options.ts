import type { Interceptor } from '@grpc/grpc-js';
import { Transport, type GrpcOptions } from '@nestjs/microservices';
import { grpcChannelCredentials, grpcServerCredentials, type GrpcTlsSetting } from './grpc-tls';
import { protoDir, protoFile } from './proto-path';
import { requestIdClientInterceptor } from './request-id.client-interceptor';
import { peerServiceInterceptor } from './peer-service.server-interceptor';
import { requestContextServerInterceptor } from './request-context.server-interceptor';

/** proto-loader settings shared by servers and clients: int64 as strings (no Long objects). */
const LOADER = { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true };

/**
 * The largest gRPC message a server accepts, or a client accepts as an answer: the requests and
 * answers between these services are a few hundred bytes, and grpc-js's default (4 MiB) let any
 * caller, before its token is even looked at, make a server buffer and decode 4 MiB per call.
 * A larger one is refused with RESOURCE_EXHAUSTED. The same size as the HTTP body limit's default.
 */
export const GRPC_MAX_MESSAGE_BYTES = 64 * 1024;

/**
 * Options for a gRPC server serving `packageName` from `proto/<file>` on `url` (host:port),
 * with mutual TLS or in plaintext as `tls` says (`loadGrpcTls(config)`). With TLS, only a client
 * whose certificate names one of `clients` is served (`peerServiceInterceptor`); in plaintext
 * there is no certificate to tell callers apart, and `clients` cannot be checked.
 * Every call runs in the request context of its `x-request-id` (Nest merges `channelOptions`
 * into grpc-js's server options).
 */
export function grpcServerOptions(
  packageName: string,
  file: string,
  url: string,
  tls: GrpcTlsSetting,
  clients: readonly string[],
): GrpcOptions {
  const interceptors =
    tls === 'plaintext'
      ? [requestContextServerInterceptor]
      : [peerServiceInterceptor(clients), requestContextServerInterceptor];
  return {
    transport: Transport.GRPC,
    options: {
      credentials: grpcServerCredentials(tls),
      package: packageName,
      protoPath: protoFile(file),
      url,
      loader: { ...LOADER, includeDirs: [protoDir()] },
      gracefulShutdown: true,
      maxReceiveMessageLength: GRPC_MAX_MESSAGE_BYTES,
      channelOptions: { interceptors },
    },
  } as GrpcOptions;
}

/**
 * Options for a gRPC client, with mutual TLS or in plaintext as `tls` says (with TLS, the
 * server's certificate must come from its CA and name the host of `url`). Interceptors must sit under
 * `channelOptions.interceptors`, the only place Nest hands them to grpc-js; the request-id
 * interceptor always comes first.
 */
export function grpcClientOptions(
  packageName: string,
  file: string,
  url: string,
  interceptors: Interceptor[],
  tls: GrpcTlsSetting,
): GrpcOptions {
  return {
    transport: Transport.GRPC,
    options: {
      credentials: grpcChannelCredentials(tls),
      package: packageName,
      protoPath: protoFile(file),
      url,
      loader: { ...LOADER, includeDirs: [protoDir()] },
      maxReceiveMessageLength: GRPC_MAX_MESSAGE_BYTES,
      channelOptions: {
        interceptors: [requestIdClientInterceptor, ...interceptors],
        'grpc.keepalive_time_ms': 30_000,
      },
    },
  } as GrpcOptions;
}
