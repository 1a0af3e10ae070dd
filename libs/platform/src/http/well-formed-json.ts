import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';

/** A surrogate code unit that is not half of a pair (in `u` mode a pair is one code point). */
const LONE_SURROGATE = /\p{Cs}/u;
const isWellFormed = (text: string) => !LONE_SURROGATE.test(text);

/**
 * Whether every string and key of a parsed JSON value is well-formed UTF-16. JSON may spell a
 * lone surrogate (`"\ud800"`); JavaScript keeps it, PostgreSQL refuses it in text and jsonb,
 * so such a body failed with a 500 after the request's work (an argon2 hash, say) was done.
 * Iterative: a deeply nested body cannot exhaust the stack.
 */
export function isWellFormedJson(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next === 'string') {
      if (!isWellFormed(next)) return false;
    } else if (Array.isArray(next)) {
      for (const item of next) pending.push(item);
    } else if (typeof next === 'object' && next !== null) {
      for (const [key, item] of Object.entries(next)) {
        if (!isWellFormed(key)) return false;
        pending.push(item);
      }
    }
  }
  return true;
}

/**
 * Fastify's JSON body parser (prototype-poisoning checks included), refusing with 400 a body
 * that holds text which is not well-formed Unicode. Only requests with a JSON body run it.
 * It replaces the parser Nest registers, so it is installed once the app initialises (a
 * module's onModuleInit), after Nest's.
 */
export function useWellFormedJsonBodies(fastify: FastifyInstance): void {
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  if (fastify.hasContentTypeParser('application/json')) {
    fastify.removeContentTypeParser('application/json');
  }
  fastify.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: fastify.initialConfig.bodyLimit },
    (request, body, done) =>
      parseJson(request, body as string, (error, parsed) => {
        if (error) return done(error, undefined);
        if (!isWellFormedJson(parsed)) {
          return done(
            Object.assign(new Error('the body holds text that is not well-formed Unicode'), {
              statusCode: 400,
            }),
            undefined,
          );
        }
        done(null, parsed);
      }),
  );
}

/** Installs `useWellFormedJsonBodies` on the app's Fastify instance (PlatformModule). */
@Injectable()
export class WellFormedJsonBodies implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (fastify) useWellFormedJsonBodies(fastify);
  }
}
