import { ApiError, GRPC_STATUS } from '@app/platform';
import { RpcException } from '@nestjs/microservices';
import { SecurityError, type SecurityErrorKind } from '../security.error';
import type { Transport } from './transport-of';

const GRPC_CODE: Record<SecurityErrorKind, number> = {
  unauthenticated: GRPC_STATUS.UNAUTHENTICATED,
  step_up: GRPC_STATUS.UNAUTHENTICATED,
  forbidden: GRPC_STATUS.PERMISSION_DENIED,
  not_found: GRPC_STATUS.NOT_FOUND,
  bad_request: GRPC_STATUS.INVALID_ARGUMENT,
  unavailable: GRPC_STATUS.UNAVAILABLE,
};

/** Codes a caller sees. Which check an invalid token failed is logged, not told to the caller. */
function publicCode(error: SecurityError): string {
  if (error.kind !== 'unauthenticated') return error.code;
  if (error.code === 'TOKEN_MISSING') return 'UNAUTHENTICATED';
  if (
    error.code === 'TOKEN_EXPIRED' ||
    error.code === 'TOKEN_REVOKED' ||
    error.code === 'MESSAGE_TOO_OLD'
  ) {
    return error.code;
  }
  return 'INVALID_TOKEN';
}

function publicMessage(error: SecurityError): string {
  return publicCode(error) === 'INVALID_TOKEN' ? 'access token is invalid' : error.message;
}

const quoted = (value: string) => `"${value.replace(/["\\]/g, '')}"`;

/** RFC 6750 §3 challenge, plus RFC 9470 §3 for step-up. */
export function bearerChallenge(error: SecurityError, realm: string): string | undefined {
  const parts = [`Bearer realm=${quoted(realm)}`];
  switch (error.kind) {
    case 'unauthenticated':
      // §3.1: a request without credentials gets no error code.
      if (error.code !== 'TOKEN_MISSING') {
        parts.push('error="invalid_token"', `error_description=${quoted(publicMessage(error))}`);
      }
      break;
    case 'step_up':
      parts.push(
        'error="insufficient_user_authentication"',
        `error_description=${quoted(error.message)}`,
      );
      if (error.maxAgeSeconds !== undefined) parts.push(`max_age=${error.maxAgeSeconds}`);
      break;
    case 'forbidden':
      if (error.code !== 'INSUFFICIENT_SCOPE') return undefined;
      parts.push('error="insufficient_scope"');
      if (error.scopes?.length) parts.push(`scope=${quoted(error.scopes.join(' '))}`);
      break;
    default:
      return undefined;
  }
  return parts.join(', ');
}

/**
 * Maps a `SecurityError` to what the transport's edge understands: an `ApiError` for HTTP
 * (status, stable code, WWW-Authenticate), an `RpcException({code, message})` with a gRPC
 * status for gRPC and JetStream (never UNKNOWN). Anything else passes through unchanged.
 */
export function toEdgeError(error: unknown, transport: Transport, realm: string): unknown {
  if (!(error instanceof SecurityError)) return error;
  if (transport === 'http') {
    const challenge = bearerChallenge(error, realm);
    return new ApiError(error.getStatus(), publicMessage(error), {
      code: publicCode(error),
      headers: challenge ? { 'WWW-Authenticate': challenge } : {},
    });
  }
  return new RpcException({
    code: GRPC_CODE[error.kind],
    message: publicMessage(error),
    errorCode: publicCode(error),
  });
}
