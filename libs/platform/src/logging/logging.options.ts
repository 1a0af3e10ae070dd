import type { IncomingMessage } from 'node:http';
import type { Params } from 'nestjs-pino';
import { acceptRequestId, currentRequestId, REQUEST_ID_HEADER } from '../context/request-context';

const REQUEST_ID = Symbol('requestId');

/**
 * The request id of an incoming HTTP request: the caller's `x-request-id` when acceptable,
 * otherwise a new one. Computed once per request (Fastify's genReqId); createServiceApp's
 * onRequest hook echoes it in the response header.
 */
export function requestIdFor(req: IncomingMessage): string {
  const holder = req as IncomingMessage & { [REQUEST_ID]?: string };
  holder[REQUEST_ID] ??= acceptRequestId(req.headers[REQUEST_ID_HEADER]);
  return holder[REQUEST_ID];
}

/**
 * Paths pino replaces with "[REDACTED]". Tokens, passwords, secrets and cookies never reach a
 * log line at the top level or one level down, where anything this code logs puts them (request
 * bodies are never logged). Deeper wildcards made every request's child logger measurably slower.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.Authorization',
  'metadata.authorization',
  ...[
    'password',
    'currentPassword',
    'newPassword',
    'token',
    'accessToken',
    'refreshToken',
    'access_token',
    'refresh_token',
    'subject_token',
    'actor_token',
    'client_secret',
    'clientSecret',
    'client_assertion',
    'secret',
    'mfaToken',
    'authorization',
    'cookie',
  ].flatMap((key) => [key, `*.${key}`]),
  // A TOTP code travels as `code` in a request body. Elsewhere `code` is what an error or a
  // refusal is (`err.code`, TOKEN_EXPIRED, a gRPC status), which logs must keep.
  'body.code',
  '*.body.code',
];

/**
 * An error as a log line shows it: its type, message, code, stack and causes, never the data it
 * carries. pino's own serializer writes every field, so a failed query logged its SQL, its bound
 * parameters (a password hash) and the driver's detail (`Key (email)=(...) already exists`).
 */
export function loggedError(error: unknown, depth = 0): Record<string, unknown> {
  if (!(error instanceof Error)) {
    // A thrown string, or a plain {code, message} (what RPC layers throw): its message and
    // code, nothing else it may carry.
    if (typeof error === 'string') return { type: 'string', message: error };
    const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
    return {
      type: typeof error,
      ...(typeof message === 'string' ? { message } : {}),
      ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    };
  }
  const logged: Record<string, unknown> = {
    type: error.constructor?.name ?? 'Error',
    message: error.message,
    stack: error.stack,
  };
  const { code, cause } = error as { code?: unknown; cause?: unknown };
  if (typeof code === 'string' || typeof code === 'number') logged.code = code;
  // ApiError keeps its cause under options (Nest's HttpException), others under `cause`.
  const wrapped = cause ?? (error as { options?: { cause?: unknown } }).options?.cause;
  if (wrapped !== undefined && depth < 3) logged.cause = loggedError(wrapped, depth + 1);
  return logged;
}

export function loggingOptions(serviceName: string, level: string): Params {
  return {
    pinoHttp: {
      level,
      base: { service: serviceName },
      messageKey: 'msg',
      timestamp: () => `,"time":"${new Date().toISOString()}"`,
      redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
      genReqId: (req) => requestIdFor(req),
      mixin: () => {
        const requestId = currentRequestId();
        return requestId ? { requestId } : {};
      },
      serializers: {
        err: (error: unknown) => loggedError(error),
        // Log the path only: a query string is user data and must never carry a token anyway.
        req: (req: {
          id?: string;
          method: string;
          url: string;
          remoteAddress?: string;
          raw?: IncomingMessage;
        }) => ({
          id: req.id ?? (req.raw ? requestIdFor(req.raw) : undefined),
          method: req.method,
          path: typeof req.url === 'string' ? req.url.split('?')[0] : undefined,
          remoteAddress: req.remoteAddress,
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    },
    // No per-request middleware (no child loggers, no second AsyncLocalStorage): the request
    // line comes from logRequestCompleted, the request id of other lines from the mixin.
    forRoutes: [],
    renameContext: 'context',
  };
}
