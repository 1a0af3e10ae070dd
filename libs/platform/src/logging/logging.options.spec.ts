import pino from 'pino';
import { Writable } from 'node:stream';
import { QueryFailedError } from 'typeorm';
import { ApiError } from '../errors/api-error';
import { loggingOptions } from './logging.options';

/**
 * A pino logger with the service's redaction and, for error logs, its serializers (the
 * redaction test goes without them, so that `req` reaches the redaction unchanged).
 */
function captureLogger({ serializers = false, redact = true } = {}) {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const options = loggingOptions('test', 'info').pinoHttp as pino.LoggerOptions;
  const logger = pino(
    {
      ...(redact ? { redact: options.redact } : {}),
      base: options.base,
      ...(serializers ? { serializers: options.serializers } : {}),
    },
    stream,
  );
  return { logger, lines };
}

describe('log redaction', () => {
  it('never writes authorization headers, cookies, passwords, tokens or secrets', () => {
    const { logger, lines } = captureLogger();
    logger.info({
      req: {
        headers: {
          authorization: 'Bearer eyJ.secret.token',
          cookie: 'refresh_token=opaque-secret',
        },
      },
      res: { headers: { 'set-cookie': 'refresh_token=opaque-secret-2' } },
      body: { password: 'hunter2-hunter2', newPassword: 'n3w-pa55phrase', client_secret: 'cs-123' },
      tokens: { accessToken: 'at-123', refresh_token: 'rt-123' },
      headers: { authorization: 'Bearer nats-token' },
    });
    const written = lines.join('');
    for (const secret of [
      'eyJ.secret.token',
      'opaque-secret',
      'opaque-secret-2',
      'hunter2-hunter2',
      'n3w-pa55phrase',
      'cs-123',
      'at-123',
      'rt-123',
      'nats-token',
    ]) {
      expect(written).not.toContain(secret);
    }
    expect(written).toContain('[REDACTED]');
  });

  it('hides a TOTP code in a body but keeps the code of an error or a refusal', () => {
    const { logger, lines } = captureLogger({ serializers: true });
    logger.info({ body: { code: '492039' }, req: { body: { code: '118230' } } }, 'login');
    logger.warn({ code: 'TOKEN_EXPIRED', transport: 'http' }, 'request refused');
    logger.error(
      { err: Object.assign(new Error('connect failed'), { code: 'ECONNREFUSED' }) },
      'x',
    );
    const written = lines.join('');
    expect(written).not.toContain('492039');
    expect(written).not.toContain('118230');
    expect(JSON.parse(lines[1]).code).toBe('TOKEN_EXPIRED');
    expect(JSON.parse(lines[2]).err.code).toBe('ECONNREFUSED');
  });
});

describe('error logs', () => {
  it('write what failed and where, never the data of a failed query', () => {
    const { logger, lines } = captureLogger({ serializers: true });
    const failed = new QueryFailedError(
      'UPDATE identities SET password_hash = $1 WHERE id = $2',
      ['$argon2id$v=19$m=19456,t=2,p=1$SECRET-HASH', 'c0ffee'],
      Object.assign(new Error('duplicate key value violates unique constraint'), {
        detail: 'Key (email)=(alice@example.com) already exists.',
      }),
    );
    // What AllExceptionsFilter logs for a 5xx, bare and wrapped as orders wraps a failed call.
    logger.error({ err: failed }, 'unhandled error');
    logger.error({ err: new ApiError(503, 'users unavailable', { cause: failed }) }, 'unhandled');
    const written = lines.join('');
    for (const data of ['SECRET-HASH', 'alice@example.com', 'password_hash = $1']) {
      expect(written).not.toContain(data);
    }
    const [bare, wrapped] = lines.map((line) => JSON.parse(line));
    expect(bare.err).toMatchObject({
      type: 'QueryFailedError',
      message: 'duplicate key value violates unique constraint',
    });
    expect(wrapped.err.cause).toMatchObject({ type: 'QueryFailedError' });
  });

  it('keep the message and code of a plain thrown object, and nothing else of it', () => {
    const { logger, lines } = captureLogger({ serializers: true, redact: false });
    logger.error({ err: { code: 14, message: 'users unavailable', token: 'secret-token' } }, 'x');
    const { err } = JSON.parse(lines[0]);
    expect(err).toEqual({ type: 'object', code: 14, message: 'users unavailable' });
  });
});
