import { InterceptingCall, type Interceptor } from '@grpc/grpc-js';
import { currentRequestId, REQUEST_ID_HEADER } from '../context/request-context';

/** Passes the current request id on in gRPC metadata. */
export const requestIdClientInterceptor: Interceptor = (options, nextCall) =>
  new InterceptingCall(nextCall(options), {
    start(metadata, listener, next) {
      const requestId = currentRequestId();
      if (requestId && metadata.get(REQUEST_ID_HEADER).length === 0) {
        metadata.set(REQUEST_ID_HEADER, requestId);
      }
      next(metadata, listener);
    },
  });
