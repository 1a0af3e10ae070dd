import Fastify from 'fastify';
import type { IncomingMessage } from 'node:http';
import { Writable } from 'node:stream';
import { pinoHttp, type Options } from 'pino-http';
import { loggingOptions, requestIdFor } from './logging.options';
import { logRequestCompleted } from './request-log';

/** A Fastify app logging like the services do, into `lines`. */
async function appLoggingAt(level: string) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  const { logger } = pinoHttp(loggingOptions('test', level).pinoHttp as Options, stream);
  const app = Fastify({ genReqId: (req: IncomingMessage) => requestIdFor(req) });
  app.addHook('onResponse', (request, reply, done) => {
    logRequestCompleted(logger, request, reply);
    done();
  });
  app.get('/ok', () => ({ ok: true }));
  app.get('/health/live', () => ({ status: 'ok' }));
  app.get('/boom', (_request, reply) => reply.status(503).send({ error: 'down' }));
  await app.ready();
  return { app, lines };
}

describe('request completed log line', () => {
  it('writes method, path (no query), status, time and request id, and no header', async () => {
    const { app, lines } = await appLoggingAt('info');
    await app.inject({
      method: 'GET',
      url: '/ok?access_token=leaked',
      headers: { authorization: 'Bearer secret-token', 'x-request-id': 'req-42' },
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 30,
      msg: 'request completed',
      req: { id: 'req-42', method: 'GET', path: '/ok' },
      res: { statusCode: 200 },
    });
    expect(typeof lines[0].responseTime).toBe('number');
    expect(JSON.stringify(lines)).not.toMatch(/secret-token|leaked|authorization/i);
  });

  it('logs 5xx at error even when info is off, and nothing for 2xx then', async () => {
    const { app, lines } = await appLoggingAt('warn');
    await app.inject({ method: 'GET', url: '/ok' });
    await app.inject({ method: 'GET', url: '/boom' });
    expect(
      lines.map((line) => [line.level, (line.res as { statusCode: number }).statusCode]),
    ).toEqual([[50, 503]]);
  });

  it('keeps liveness probes out of the log', async () => {
    const { app, lines } = await appLoggingAt('info');
    await app.inject({ method: 'GET', url: '/health/live' });
    expect(lines).toEqual([]);
  });
});
