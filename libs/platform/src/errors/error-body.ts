import { HttpException } from '@nestjs/common';
import { ApiError } from './api-error';
import { codeForStatus } from './error-codes';

export interface NormalizedError {
  status: number;
  code: string;
  message: string;
  headers: Record<string, string>;
}

function messageOf(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  if (typeof message === 'string') return message;
  return exception.message;
}

/**
 * Turns anything thrown into status, code and a message that is safe to show: 5xx never
 * expose their internals (node-oidc-provider's `expose = status < 500`).
 */
export function normalizeError(exception: unknown): NormalizedError {
  if (exception instanceof ApiError) {
    const status = exception.getStatus();
    return {
      status,
      code: exception.code,
      // An ApiError is thrown on purpose, so its message is meant for the caller; a 500 is not.
      message: status === 500 ? 'internal error' : exception.message,
      headers: exception.headers,
    };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    return {
      status,
      code: codeForStatus(status),
      message: status >= 500 ? 'internal error' : messageOf(exception),
      headers: {},
    };
  }
  // Fastify's own errors (body too large, bad JSON, wrong content type) carry a 4xx statusCode.
  const statusCode = (exception as { statusCode?: unknown } | null)?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    const raw = (exception as Error).message ?? '';
    const message =
      statusCode === 413
        ? 'request body is too large'
        : statusCode === 415
          ? 'unsupported content type'
          : raw.replace(/^FST_[A-Z_]+:\s*/, '') || 'bad request';
    return { status: statusCode, code: codeForStatus(statusCode), message, headers: {} };
  }
  return { status: 500, code: 'INTERNAL', message: 'internal error', headers: {} };
}
