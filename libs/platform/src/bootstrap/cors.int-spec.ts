import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  createProbeServiceApp,
  PublicProbeController,
} from '../../../../test/support/probe-service';
import { createTestDatabase, startTestNats } from '../../../../test/support/test-infra';
import { baseConfigSchema } from '../config/base-config.schema';
import { loadConfig } from '../config/load-config';

let database: { url: string; drop(): Promise<void> };
let nats: { url: string; stop(): Promise<void> };
beforeAll(async () => {
  [database, nats] = await Promise.all([createTestDatabase('cors'), startTestNats()]);
}, 30_000);
afterAll(async () => {
  await nats?.stop();
  await database?.drop();
});

const ALLOWED = 'https://app.example.com';

async function appWith(corsOrigins: string): Promise<NestFastifyApplication> {
  const config = loadConfig(baseConfigSchema, {
    NODE_ENV: 'test',
    PORT: '3999',
    LOG_LEVEL: 'silent',
    DATABASE_URL: database.url,
    NATS_URL: nats.url,
    CORS_ORIGINS: corsOrigins,
  });
  const app = await createProbeServiceApp(config, [PublicProbeController]);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

describe('CORS', () => {
  let app: NestFastifyApplication;
  beforeAll(async () => {
    app = await appWith(`${ALLOWED},http://localhost:5173`);
  });
  afterAll(async () => app?.close());

  const get = (origin?: string) =>
    app.inject({ method: 'GET', url: '/probe', headers: origin ? { origin } : {} });
  const preflight = (origin: string) =>
    app.inject({
      method: 'OPTIONS',
      url: '/probe',
      headers: { origin, 'access-control-request-method': 'POST' },
    });

  it('lets a configured origin read answers, with credentials', async () => {
    const response = await get(ALLOWED);
    expect(response.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(response.headers['access-control-allow-credentials']).toBe('true');
  });

  it('gives any other origin no CORS header (never "*", never the caller\'s own origin)', async () => {
    for (const origin of ['https://evil.example', 'https://app.example.com.evil.example', 'null']) {
      const response = await get(origin);
      expect(response.headers['access-control-allow-origin']).toBeUndefined();
      expect(response.headers['access-control-allow-credentials']).toBeUndefined();
    }
  });

  it('answers a preflight from a configured origin only', async () => {
    const allowed = await preflight(ALLOWED);
    expect(allowed.statusCode).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(allowed.headers['access-control-allow-methods']).toBe('GET, POST, PATCH, DELETE');
    const other = await preflight('https://evil.example');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    expect(other.headers['access-control-allow-methods']).toBeUndefined();
  });
});

describe('CORS without configured origins', () => {
  it('lets no origin read answers', async () => {
    const app = await appWith('');
    try {
      const response = await app.inject({
        method: 'GET',
        url: '/probe',
        headers: { origin: ALLOWED },
      });
      expect(response.statusCode).toBe(200);
      expect(response.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await app.close();
    }
  });
});

it('refuses "*" and origins with a path in CORS_ORIGINS', () => {
  const load = (value: string) =>
    loadConfig(baseConfigSchema, {
      PORT: '3999',
      DATABASE_URL: 'postgres://u:p@h/db',
      NATS_URL: 'nats://h:4222',
      CORS_ORIGINS: value,
    });
  expect(() => load('*')).toThrow(/CORS_ORIGINS/);
  expect(() => load('https://app.example.com/path')).toThrow(/CORS_ORIGINS/);
});
