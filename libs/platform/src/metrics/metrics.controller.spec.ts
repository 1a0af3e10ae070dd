import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { createServiceApp } from '../bootstrap/service-app';
import { baseConfigSchema } from '../config/base-config.schema';
import { loadConfig } from '../config/load-config';
import { PlatformModule } from '../platform.module';

const TOKEN = 'b'.repeat(40);

async function platformApp(
  metricsToken: string | undefined,
  metricsTokenPrevious?: string,
): Promise<NestFastifyApplication> {
  @Module({
    imports: [
      PlatformModule.forRoot({
        serviceName: 'probe',
        logLevel: 'silent',
        metricsToken,
        metricsTokenPrevious,
      }),
    ],
  })
  class ProbeModule {}
  const app = await NestFactory.create<NestFastifyApplication>(ProbeModule, new FastifyAdapter(), {
    logger: false,
  });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

describe('GET /metrics', () => {
  describe('with a METRICS_TOKEN', () => {
    let app: NestFastifyApplication;
    beforeAll(async () => (app = await platformApp(TOKEN)));
    afterAll(() => app.close());

    const scrape = (authorization?: string) =>
      app.inject({
        method: 'GET',
        url: '/metrics',
        headers: authorization ? { authorization } : {},
      });

    it('serves the registry to a scraper sending the token', async () => {
      const response = await scrape(`Bearer ${TOKEN}`);
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/plain/);
      expect(response.body).toContain('process_cpu_seconds_total');
    });

    it.each([
      ['no Authorization', undefined],
      ['a wrong token of the same length', `Bearer ${'c'.repeat(40)}`],
      ['a prefix of the token', `Bearer ${TOKEN.slice(0, 39)}`],
      ['the token and more', `Bearer ${TOKEN}x`],
      ['another scheme', `Basic ${Buffer.from(`prometheus:${TOKEN}`).toString('base64')}`],
      ['the token without a scheme', TOKEN],
    ])(
      'answers %s with 401 and a Bearer challenge, and no metric',
      async (_case, authorization) => {
        const response = await scrape(authorization);
        expect(response.statusCode).toBe(401);
        expect(response.headers['www-authenticate']).toBe('Bearer realm="metrics"');
        expect(response.json()).toEqual({
          error: expect.objectContaining({ code: 'UNAUTHENTICATED' }),
        });
        expect(response.body).not.toContain('process_cpu_seconds_total');
      },
    );
  });

  it('also serves a scraper sending METRICS_TOKEN_PREVIOUS, during a rotation', async () => {
    const previous = 'p'.repeat(40);
    const app = await platformApp(TOKEN, previous);
    try {
      const status = async (token: string) =>
        (
          await app.inject({
            method: 'GET',
            url: '/metrics',
            headers: { authorization: `Bearer ${token}` },
          })
        ).statusCode;
      expect(await status(TOKEN)).toBe(200);
      expect(await status(previous)).toBe(200);
      expect(await status('q'.repeat(40))).toBe(401);
    } finally {
      await app.close();
    }
  });

  it('is open without a METRICS_TOKEN (development and tests; production requires one)', async () => {
    const app = await platformApp(undefined);
    try {
      expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('refuses to build a service whose PlatformModule was not given the configured token', async () => {
    @Module({ imports: [PlatformModule.forRoot({ serviceName: 'probe', logLevel: 'silent' })] })
    class ForgetfulModule {}
    const config = loadConfig(baseConfigSchema, {
      PORT: '3999',
      DATABASE_URL: 'postgres://u:p@127.0.0.1:1/none',
      NATS_URL: 'nats://127.0.0.1:1',
      METRICS_TOKEN: TOKEN,
    });
    await expect(
      createServiceApp({
        serviceName: 'probe',
        module: ForgetfulModule,
        config,
        openApi: { title: 'probe', description: 'probe' },
        quiet: true,
      }),
    ).rejects.toThrow('must be config.METRICS_TOKEN and config.METRICS_TOKEN_PREVIOUS');
  });
});
