import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Observable } from 'rxjs';
import {
  acceptRequestId,
  REQUEST_ID_HEADER,
  runWithRequestContext,
} from '../context/request-context';

interface MetadataLike {
  get(key: string): unknown[];
}

function isMetadata(value: unknown): value is MetadataLike {
  return typeof (value as MetadataLike | null)?.get === 'function' && 'getMap' in (value as object);
}

/**
 * Runs each incoming gRPC call inside a request context taken from its `x-request-id`
 * metadata. (HTTP gets its context from middleware, JetStream from its transport.)
 */
@Injectable()
export class RpcRequestContextInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'rpc') return next.handle();
    const metadata = context.switchToRpc().getContext();
    if (!isMetadata(metadata)) return next.handle();
    const requestId = acceptRequestId(metadata.get(REQUEST_ID_HEADER)[0]);
    return new Observable((subscriber) =>
      runWithRequestContext({ requestId }, () => next.handle().subscribe(subscriber)),
    );
  }
}
