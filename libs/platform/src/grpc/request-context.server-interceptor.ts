import { ServerInterceptingCall, type ServerInterceptor } from '@grpc/grpc-js';
import {
  acceptRequestId,
  REQUEST_ID_HEADER,
  runWithRequestContext,
  type RequestContext,
} from '../context/request-context';

/**
 * A grpc-js server interceptor (`grpcServerOptions` installs it): every incoming call runs in a
 * request context taken from its `x-request-id` metadata (a new id when it has none or a bad
 * one). It is set where grpc-js hands the call to Nest, so Nest's guards (a refused call's log
 * line), interceptors, handler and exception filter all run in it. HTTP gets its context from
 * the onRequest hook, JetStream from its transport.
 */
export const requestContextServerInterceptor: ServerInterceptor = (_method, call) => {
  // Metadata always comes first; the fallback is for a call grpc-js hands on without it.
  let context: RequestContext | undefined;
  const run = (next: () => void) =>
    runWithRequestContext((context ??= { requestId: acceptRequestId(undefined) }), next);
  return new ServerInterceptingCall(call, {
    start: (next) =>
      next({
        onReceiveMetadata: (metadata, nextMetadata) => {
          context = { requestId: acceptRequestId(metadata.get(REQUEST_ID_HEADER)[0]) };
          nextMetadata(metadata);
        },
        // Unary and client-streaming handlers start on the half-close, streaming ones on the
        // first message: both run inside the context.
        onReceiveMessage: (message, nextMessage) => run(() => nextMessage(message)),
        onReceiveHalfClose: (nextHalfClose) => run(nextHalfClose),
      }),
  });
};
