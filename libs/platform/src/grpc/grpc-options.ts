import type { Interceptor } from '@grpc/grpc-js';
import { Transport, type GrpcOptions } from '@nestjs/microservices';
import { protoDir, protoFile } from './proto-path';
import { requestIdClientInterceptor } from './request-id.client-interceptor';
import { requestContextServerInterceptor } from './request-context.server-interceptor';

/** proto-loader settings shared by servers and clients: int64 as strings (no Long objects). */
const LOADER = { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true };

/**
 * Options for a gRPC server serving `packageName` from `proto/<file>` on `url` (host:port).
 * Every call runs in the request context of its `x-request-id` (Nest merges `channelOptions`
 * into grpc-js's server options).
 */
export function grpcServerOptions(packageName: string, file: string, url: string): GrpcOptions {
  return {
    transport: Transport.GRPC,
    options: {
      package: packageName,
      protoPath: protoFile(file),
      url,
      loader: { ...LOADER, includeDirs: [protoDir()] },
      gracefulShutdown: true,
      channelOptions: { interceptors: [requestContextServerInterceptor] },
    },
  } as GrpcOptions;
}

/**
 * Options for a gRPC client. Interceptors must sit under `channelOptions.interceptors`, the only
 * place Nest hands them to grpc-js; the request-id interceptor always comes first.
 */
export function grpcClientOptions(
  packageName: string,
  file: string,
  url: string,
  interceptors: Interceptor[] = [],
): GrpcOptions {
  return {
    transport: Transport.GRPC,
    options: {
      package: packageName,
      protoPath: protoFile(file),
      url,
      loader: { ...LOADER, includeDirs: [protoDir()] },
      channelOptions: {
        interceptors: [requestIdClientInterceptor, ...interceptors],
        'grpc.keepalive_time_ms': 30_000,
      },
    },
  } as GrpcOptions;
}
