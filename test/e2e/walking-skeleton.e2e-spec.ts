// The suite's walking skeleton, black-box over real PostgreSQL, nats-server and gRPC:
// registering on auth publishes auth.identity.registered through auth's outbox; users consumes
// it from JetStream and creates the profile; orders reads that profile from users over gRPC.
import { runMigrations } from '@app/platform';
import { randomBytes } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createAuthApp } from '../../apps/auth/src/auth.app';
import { loadAuthConfig } from '../../apps/auth/src/auth.config';
import { authDataSource } from '../../apps/auth/src/database/auth-data-source';
import { ordersDataSource } from '../../apps/orders/src/database/orders-data-source';
import { createOrdersApp } from '../../apps/orders/src/orders.app';
import { loadOrdersConfig } from '../../apps/orders/src/orders.config';
import { UsersGrpcClient } from '../../apps/orders/src/users-client/users.grpc.client';
import { usersDataSource } from '../../apps/users/src/database/users-data-source';
import { createUsersApp } from '../../apps/users/src/users.app';
import { loadUsersConfig } from '../../apps/users/src/users.config';
import { freePort } from '../../scripts/lib/infra';
import { createTestDatabase, startTestNats } from '../support/test-infra';

async function eventually<T>(
  probe: () => Promise<T | null | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('walking skeleton: auth → NATS → users → gRPC ← orders', () => {
  const cleanups: (() => Promise<void>)[] = [];
  let authUrl: string;
  let usersUrl: string;
  let ordersUrl: string;
  let orders: NestFastifyApplication;

  beforeAll(async () => {
    const nats = await startTestNats();
    cleanups.push(() => nats.stop());
    const [authDb, usersDb, ordersDb] = await Promise.all([
      createTestDatabase('skeleton_auth'),
      createTestDatabase('skeleton_users'),
      createTestDatabase('skeleton_orders'),
    ]);
    cleanups.push(
      () => authDb.drop(),
      () => usersDb.drop(),
      () => ordersDb.drop(),
    );
    await Promise.all([
      runMigrations(authDataSource(authDb.url)),
      runMigrations(usersDataSource(usersDb.url)),
      runMigrations(ordersDataSource(ordersDb.url)),
    ]);
    const [authPort, usersPort, usersGrpcPort, ordersPort, ordersGrpcPort] = await Promise.all(
      Array.from({ length: 5 }, () => freePort()),
    );
    const common = { NODE_ENV: 'test', HOST: '127.0.0.1', LOG_LEVEL: 'silent', NATS_URL: nats.url };
    const issuer = `http://127.0.0.1:${authPort}`;
    const usersSecret = randomBytes(32).toString('base64url');
    const ordersSecret = randomBytes(32).toString('base64url');

    const auth = await createAuthApp(
      loadAuthConfig({
        ...common,
        PORT: String(authPort),
        DATABASE_URL: authDb.url,
        AUTH_ISSUER: issuer,
        USERS_CLIENT_SECRET: usersSecret,
        ORDERS_CLIENT_SECRET: ordersSecret,
      }),
    );
    const users = await createUsersApp(
      loadUsersConfig({
        ...common,
        PORT: String(usersPort),
        GRPC_PORT: String(usersGrpcPort),
        DATABASE_URL: usersDb.url,
        AUTH_ISSUER: issuer,
        ORDERS_GRPC_URL: `127.0.0.1:${ordersGrpcPort}`,
        CLIENT_SECRET: usersSecret,
      }),
    );
    orders = await createOrdersApp(
      loadOrdersConfig({
        ...common,
        PORT: String(ordersPort),
        GRPC_PORT: String(ordersGrpcPort),
        DATABASE_URL: ordersDb.url,
        AUTH_ISSUER: issuer,
        USERS_GRPC_URL: `127.0.0.1:${usersGrpcPort}`,
        CLIENT_SECRET: ordersSecret,
      }),
    );
    for (const [app, port] of [
      [auth, authPort],
      [users, usersPort],
      [orders, ordersPort],
    ] as const) {
      await app.startAllMicroservices();
      await app.listen({ port, host: '127.0.0.1' });
      cleanups.unshift(() => app.close());
    }
    authUrl = issuer;
    usersUrl = `http://127.0.0.1:${usersPort}`;
    ordersUrl = `http://127.0.0.1:${ordersPort}`;
  }, 60_000);

  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  it('reports every service ready once its database and NATS answer', async () => {
    for (const url of [authUrl, usersUrl, ordersUrl]) {
      const ready = await eventually(async () => {
        const response = await fetch(`${url}/health/ready`);
        return response.status === 200 ? response : null;
      });
      expect(await ready.json()).toEqual({ status: 'ok', checks: { database: 'up', nats: 'up' } });
    }
  });

  it('carries a registration from auth to users over JetStream and from users to orders over gRPC', async () => {
    const email = `skeleton-${Date.now()}@example.com`;
    const registered = await fetch(`${authUrl}/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'skeleton-1' },
      body: JSON.stringify({
        email,
        password: 'a long enough passphrase',
        displayName: 'Skeleton',
      }),
    });
    expect(registered.status).toBe(201);
    expect(registered.headers.get('x-request-id')).toBe('skeleton-1');
    const { id } = (await registered.json()) as { id: string };

    const client = orders.get(UsersGrpcClient);
    const user = await eventually(() => client.getUser(id));
    expect(user).toEqual({
      id,
      email,
      displayName: 'Skeleton',
      locale: 'en',
      region: 'eu',
      roles: ['customer'],
    });
  });

  it('answers NOT_FOUND from users over gRPC as null in orders, not as an error', async () => {
    await expect(
      orders.get(UsersGrpcClient).getUser('00000000-0000-4000-8000-000000000000'),
    ).resolves.toBeNull();
  });

  it('serves the public catalog from orders', async () => {
    const response = await fetch(`${ordersUrl}/catalog`);
    expect(response.status).toBe(200);
    const catalog = (await response.json()) as { sku: string; price: number }[];
    expect(catalog.length).toBeGreaterThan(0);
    expect(catalog[0]).toEqual(
      expect.objectContaining({ sku: expect.any(String), price: expect.any(Number) }),
    );
  });
});
