import { runMigrations } from '@app/platform';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createTestDatabase, startTestNats } from '../../../../test/support/test-infra';
import { createAuthApp } from '../../src/auth.app';
import { loadAuthConfig, type AuthConfig } from '../../src/auth.config';
import { authDataSource } from '../../src/database/auth-data-source';

/** A clock tests can move: starts at real time, `advance(ms)` jumps forward. */
export class TestClock {
  private offset = 0;
  now = (): number => Date.now() + this.offset;
  advance(ms: number): void {
    this.offset += ms;
  }
}

export interface AuthTestApp {
  app: NestFastifyApplication;
  url: string;
  config: AuthConfig;
  clock: TestClock;
  db: DataSource;
  adminEmail: string;
  adminPassword: string;
  usersSecret: string;
  ordersSecret: string;
  close(): Promise<void>;
}

/**
 * auth on a fresh database (or on `databaseUrl`, which close() then leaves in place) and its own
 * nats-server, listening on a free port.
 */
export async function startAuthTestApp(
  prefix: string,
  env: Record<string, string> = {},
  { databaseUrl }: { databaseUrl?: string } = {},
): Promise<AuthTestApp> {
  const database = databaseUrl
    ? { url: databaseUrl, drop: async () => undefined }
    : await createTestDatabase(prefix);
  const nats = await startTestNats();
  const adminPassword = randomBytes(18).toString('base64url');
  const usersSecret = randomBytes(32).toString('base64url');
  const ordersSecret = randomBytes(32).toString('base64url');
  const config = loadAuthConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    HOST: '127.0.0.1',
    DATABASE_URL: database.url,
    NATS_URL: nats.url,
    KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    ADMIN_EMAIL: 'admin@example.test',
    ADMIN_PASSWORD: adminPassword,
    USERS_CLIENT_SECRET: usersSecret,
    ORDERS_CLIENT_SECRET: ordersSecret,
    KEY_PUBLISH_LEAD_SECONDS: '0',
    ...env,
  });
  await runMigrations(authDataSource(database.url));
  const clock = new TestClock();
  const app = await createAuthApp(config, { clock, quiet: true });
  await app.startAllMicroservices();
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address() as { port: number };
  const db = app.get(DataSource);
  return {
    app,
    url: `http://127.0.0.1:${address.port}`,
    config,
    clock,
    db,
    adminEmail: 'admin@example.test',
    adminPassword,
    usersSecret,
    ordersSecret,
    async close() {
      await app.close();
      await nats.stop();
      await database.drop();
    },
  };
}

export const form = (params: Record<string, string>) => new URLSearchParams(params).toString();

/** `Authorization: Bearer <token>` as a headers object. */
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

export function decodeJwt(token: string): {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
} {
  const [header, payload] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString()),
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString()),
  };
}

export async function postForm(
  url: string,
  params: Record<string, string>,
  authorization?: string,
) {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(authorization ? { authorization } : {}),
    },
    body: form(params),
  });
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

export function refreshCookieOf(response: Response): string | undefined {
  const cookie = response.headers
    .getSetCookie()
    .find((value) => value.startsWith('refresh_token='));
  return cookie?.split(';')[0].slice('refresh_token='.length) || undefined;
}

let counter = 0;
export const uniqueEmail = (label = 'user') => `${label}-${Date.now()}-${counter++}@example.test`;
export const STRONG_PASSWORD = 'correct horse battery staple 42';

/** Response bodies in specs are read freely; the assertions check their shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JsonBody = any;
export const asJson = (value: unknown): JsonBody => value;
