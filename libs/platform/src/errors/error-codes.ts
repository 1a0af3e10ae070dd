/** Stable error codes of the HTTP error body `{error: {code, message, requestId}}`. */
export const ERROR_CODES = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE',
  429: 'RATE_LIMITED',
  503: 'UNAVAILABLE',
} as const satisfies Record<number, string>;

export function codeForStatus(status: number): string {
  if (status >= 500) return status === 503 ? 'UNAVAILABLE' : 'INTERNAL';
  return (ERROR_CODES as Record<number, string>)[status] ?? 'BAD_REQUEST';
}

/** gRPC status codes (grpc/status.h), so that no layer depends on @grpc/grpc-js for numbers. */
export const GRPC_STATUS = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

export function grpcStatusForHttpStatus(status: number): number {
  switch (status) {
    case 400:
    case 413:
    case 422:
      return GRPC_STATUS.INVALID_ARGUMENT;
    case 401:
      return GRPC_STATUS.UNAUTHENTICATED;
    case 403:
      return GRPC_STATUS.PERMISSION_DENIED;
    case 404:
      return GRPC_STATUS.NOT_FOUND;
    case 409:
      return GRPC_STATUS.FAILED_PRECONDITION;
    case 429:
      return GRPC_STATUS.RESOURCE_EXHAUSTED;
    case 503:
      return GRPC_STATUS.UNAVAILABLE;
    case 504:
      return GRPC_STATUS.DEADLINE_EXCEEDED;
    default:
      return status >= 500 ? GRPC_STATUS.INTERNAL : GRPC_STATUS.INVALID_ARGUMENT;
  }
}
