import {
  InterceptingCall,
  Metadata,
  status as GrpcStatus,
  type Interceptor,
  type InterceptorOptions,
  type InterceptingListener,
  type StatusObject,
} from '@grpc/grpc-js';
import type { ServiceTokenClient } from '../token/service-token.client';

/**
 * A grpc-js client interceptor that attaches `authorization: Bearer <service token>` for
 * `audience`. Give it under `channelOptions.interceptors` (the only place Nest passes
 * interceptors to grpc-js), e.g. via `grpcClientOptions(pkg, file, url, [interceptor])`,
 * which also attaches the request id.
 *
 * A call that already carries `authorization` (a token exchanged for a user, RFC 8693) keeps
 * it. A unary call answered UNAUTHENTICATED is retried once with a fresh token.
 *
 * @example
 * ClientsModule.registerAsync([{ name: USERS_GRPC, inject: [ServiceTokenClient],
 *   useFactory: (tokens) => grpcClientOptions('users.v1', 'users/v1/users.proto', url,
 *     [serviceTokenInterceptor(tokens, 'users', 'users:read')]) }])
 */
export function serviceTokenInterceptor(
  tokens: ServiceTokenClient,
  audience: string,
  scope?: string,
): Interceptor {
  return (options: InterceptorOptions, nextCall) => {
    const definition = options.method_definition;
    const unary = !definition.requestStream && !definition.responseStream;
    let message: unknown;
    const fail = (listener: InterceptingListener) =>
      listener.onReceiveStatus?.({
        code: GrpcStatus.UNAVAILABLE,
        details: 'no service token available',
        metadata: new Metadata(),
      } as StatusObject);
    return new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        if (metadata.get('authorization').length > 0) return next(metadata, listener);
        const original = metadata.clone();
        tokens.getToken(audience, scope).then(
          (token) => {
            metadata.set('authorization', `Bearer ${token}`);
            if (!unary) return next(metadata, listener);
            next(metadata, {
              onReceiveMetadata: (md, nextMetadata) => nextMetadata(md),
              onReceiveMessage: (value, nextMessage) => nextMessage(value),
              onReceiveStatus: (status, nextStatus) => {
                if (status.code !== GrpcStatus.UNAUTHENTICATED) return nextStatus(status);
                // The token may be stale (rotated key, revoked): once more with a fresh one.
                tokens.invalidate(audience);
                tokens.getToken(audience, scope).then(
                  (fresh) => {
                    const retryMetadata = original.clone();
                    retryMetadata.set('authorization', `Bearer ${fresh}`);
                    const call = nextCall(options);
                    call.start(retryMetadata, {
                      onReceiveMetadata: () => undefined,
                      onReceiveMessage: (value: unknown) => listener.onReceiveMessage(value),
                      onReceiveStatus: (retryStatus: StatusObject) => nextStatus(retryStatus),
                    });
                    call.sendMessage(message);
                    call.halfClose();
                  },
                  () => nextStatus(status),
                );
              },
            });
          },
          () => fail(listener),
        );
      },
      sendMessage(value, next) {
        message = value;
        next(value);
      },
    });
  };
}
