import { HttpException } from '@nestjs/common';
import { codeForStatus } from './error-codes';

/**
 * The one error type services throw for an expected failure. It carries a stable `code`;
 * the transport edge (HTTP filter, gRPC filter, JetStream transport) maps it, since
 * `instanceof` does not survive a transport and a code does.
 *
 * @example throw new ApiError(404, 'order not found');
 * @example throw new ApiError(401, 'token expired', { code: 'UNAUTHENTICATED', headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } });
 */
export class ApiError extends HttpException {
  readonly code: string;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    message: string,
    options: { code?: string; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, status, { cause: options.cause });
    this.code = options.code ?? codeForStatus(status);
    this.headers = options.headers ?? {};
    this.name = 'ApiError';
  }
}
