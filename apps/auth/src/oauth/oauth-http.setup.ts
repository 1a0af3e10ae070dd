import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { AUTH_CONFIG, type AuthConfig } from '../auth.config';
import { isFormContentType, parseForm } from './form-body';
import { NO_STORE, sendOAuthFailure } from './oauth-exception.filter';
import { TokenEndpoint } from './token.endpoint';

const FORM_ENDPOINTS = new Set(['/oauth/token', '/oauth/revoke']);

/**
 * Fastify parses JSON only; the OAuth endpoints take form bodies (RFC 6749 §4.4.2). The parser
 * is auth's alone. A POST with any other content type to them is refused before its body is
 * read, with an RFC 6749 error instead of Fastify's 415. It also serves the token endpoint
 * (see TokenEndpoint for why it is a Fastify route): every failure there, a body Fastify could
 * not read included, is an RFC 6749 §5.2 error, and every answer is `no-store`.
 */
@Injectable()
export class OAuthHttpSetup implements OnModuleInit {
  private readonly logger = new Logger('OAuth');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly tokenEndpoint: TokenEndpoint,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify?.addContentTypeParser) return;
    const type = 'application/x-www-form-urlencoded';
    if (fastify.hasContentTypeParser(type)) fastify.removeContentTypeParser(type);
    fastify.addContentTypeParser(
      type,
      { parseAs: 'string', bodyLimit: this.config.BODY_LIMIT_BYTES },
      (_request, body, done) => done(null, parseForm(body as string)),
    );
    fastify.addHook('onRequest', (request, reply, done) => {
      const path = request.url.split('?')[0];
      const isForm = isFormContentType(request.headers['content-type']);
      if (request.method === 'POST' && FORM_ENDPOINTS.has(path)) {
        if (!isForm) {
          reply.headers(NO_STORE).status(400).send({
            error: 'invalid_request',
            error_description: 'the body must be application/x-www-form-urlencoded',
          });
          return;
        }
      } else if (isForm) {
        // Form bodies are for the OAuth endpoints alone. Elsewhere (JSON APIs: login, register)
        // a form is what a cross-site page can post without a CORS preflight.
        done(
          Object.assign(new Error('Unsupported Media Type: application/x-www-form-urlencoded'), {
            statusCode: 415,
            code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
          }),
        );
        return;
      }
      done();
    });
    fastify.post(
      '/oauth/token',
      { errorHandler: (error, _request, reply) => sendOAuthFailure(reply, error, this.logger) },
      async (request, reply) => {
        const response = await this.tokenEndpoint.handle(request);
        reply.headers(NO_STORE);
        return response;
      },
    );
  }
}
