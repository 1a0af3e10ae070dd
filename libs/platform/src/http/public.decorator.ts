import { Reflector } from '@nestjs/core';

/**
 * Opts a route, gRPC method or NATS handler out of authentication. Everything else is
 * denied by the global guard of `@app/security`.
 *
 * @example
 * @Public() @Get('/catalog') list() {}
 */
export const Public = Reflector.createDecorator<void, true>({ transform: () => true });
