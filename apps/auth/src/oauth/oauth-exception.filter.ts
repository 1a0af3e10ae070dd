import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { OAuthError } from './oauth.error';

/** RFC 6749 §5.1: token responses (errors included) are never cached. */
export const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

/**
 * OAuth endpoints answer in RFC 6749 §5.2 shape `{error, error_description}`, not the JSON
 * error shape of the rest of the API. Anything unexpected is a `server_error` that reveals
 * nothing.
 */
@Catch()
export class OAuthExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('OAuth');

  catch(exception: unknown, host: ArgumentsHost): void {
    sendOAuthFailure(host.switchToHttp().getResponse<FastifyReply>(), exception, this.logger);
  }
}

/** Answers any failure of an OAuth endpoint (the filter's work, for Fastify routes too). */
export function sendOAuthFailure(reply: FastifyReply, exception: unknown, logger: Logger): void {
  const error = toOAuthError(exception);
  if (error.status >= 500) logger.error({ err: exception }, 'oauth endpoint failed');
  sendOAuthError(reply, error);
}

export function sendOAuthError(reply: FastifyReply, error: OAuthError): void {
  reply
    .headers({ ...NO_STORE, ...error.headers })
    .status(error.status)
    .send({ error: error.error, error_description: error.description });
}

function toOAuthError(exception: unknown): OAuthError {
  if (exception instanceof OAuthError) return exception;
  const status =
    exception instanceof HttpException
      ? exception.getStatus()
      : ((exception as { statusCode?: number } | null)?.statusCode ?? 500);
  if (status >= 400 && status < 500) {
    return new OAuthError('invalid_request', 'the request is malformed', 400);
  }
  return new OAuthError('server_error', 'internal error', 500);
}
