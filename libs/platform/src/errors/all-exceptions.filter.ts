import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { throwError } from 'rxjs';
import { currentRequestId } from '../context/request-context';
import { normalizeError } from './error-body';
import { grpcStatusForHttpStatus } from './error-codes';

/**
 * The edge of every transport. HTTP gets `{error: {code, message, requestId}}` (SPEC §6);
 * RPC (gRPC and JetStream) gets `{code: <gRPC status>, message, errorCode}`, which gRPC
 * turns into a status (never UNKNOWN) and the JetStream transport turns into ack/term.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost) {
    const error = normalizeError(exception);
    if (error.status >= 500) {
      this.logger.error({ err: exception }, 'unhandled error');
    }
    if (host.getType() === 'http') {
      const reply = host.switchToHttp().getResponse<FastifyReply>();
      const requestId = currentRequestId() ?? String(reply.request?.id ?? '');
      reply.headers(error.headers);
      reply.status(error.status).send({
        error: { code: error.code, message: error.message, requestId },
      });
      return;
    }
    // Already shaped for gRPC by a lower layer (e.g. an RpcException from a guard).
    const rpcError = (exception as { getError?: () => unknown })?.getError?.();
    if (
      rpcError &&
      typeof rpcError === 'object' &&
      typeof (rpcError as { code?: unknown }).code === 'number'
    ) {
      return throwError(() => rpcError);
    }
    return throwError(() => ({
      code: grpcStatusForHttpStatus(error.status),
      message: error.message,
      errorCode: error.code,
    }));
  }
}
