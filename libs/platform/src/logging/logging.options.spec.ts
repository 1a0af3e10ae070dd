import pino from 'pino';
import { Writable } from 'node:stream';
import { loggingOptions } from './logging.options';

function captureLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const options = loggingOptions('test', 'info').pinoHttp as pino.LoggerOptions;
  return { logger: pino({ redact: options.redact, base: options.base }, stream), lines };
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
});
