import { BadRequestException, HttpException } from '@nestjs/common';
import { ApiError } from './api-error';
import { normalizeError } from './error-body';
import { grpcStatusForHttpStatus, GRPC_STATUS } from './error-codes';

describe('normalizeError', () => {
  it('exposes nothing of an unexpected error', () => {
    const error = normalizeError(
      new Error('connection to 10.0.0.5:5432 failed: password authentication failed'),
    );
    expect(error).toEqual({
      status: 500,
      code: 'INTERNAL',
      message: 'internal error',
      headers: {},
    });
  });

  it('hides the message of a 500 even when thrown on purpose', () => {
    expect(normalizeError(new ApiError(500, 'stack: at Foo.bar')).message).toBe('internal error');
    expect(normalizeError(new HttpException('db down', 502)).message).toBe('internal error');
  });

  it('keeps the code, message and headers of an ApiError', () => {
    const error = new ApiError(401, 'token expired', {
      code: 'UNAUTHENTICATED',
      headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
    });
    expect(normalizeError(error)).toEqual({
      status: 401,
      code: 'UNAUTHENTICATED',
      message: 'token expired',
      headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
    });
  });

  it('joins validation messages so the offending field is named', () => {
    const error = normalizeError(new BadRequestException(['property price should not exist']));
    expect(error).toMatchObject({
      status: 400,
      code: 'BAD_REQUEST',
      message: 'property price should not exist',
    });
  });

  it('maps HTTP statuses to real gRPC statuses, never UNKNOWN', () => {
    expect(grpcStatusForHttpStatus(401)).toBe(GRPC_STATUS.UNAUTHENTICATED);
    expect(grpcStatusForHttpStatus(403)).toBe(GRPC_STATUS.PERMISSION_DENIED);
    expect(grpcStatusForHttpStatus(404)).toBe(GRPC_STATUS.NOT_FOUND);
    expect(grpcStatusForHttpStatus(503)).toBe(GRPC_STATUS.UNAVAILABLE);
    for (const status of [400, 409, 413, 418, 429, 500, 502]) {
      expect(grpcStatusForHttpStatus(status)).not.toBe(GRPC_STATUS.UNKNOWN);
    }
  });
});
