// orders against the real auth (login, roles, RFC 8693 token exchange, client credentials,
// JWKS), over real Fastify, grpc-js, PostgreSQL and nats-server. users is a fake gRPC server
// that verifies tokens with auth's JWKS and records them, so the test can see exactly which
// token orders presented on the customer's behalf.
import 'reflect-metadata';
import { createServiceApp, ensureStream, runMigrations } from '@app/platform';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { connect, type NatsConnection } from 'nats';
import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { createAuthApp } from '../../auth/src/auth.app';
import { loadAuthConfig } from '../../auth/src/auth.config';
import { authDataSource } from '../../auth/src/database/auth-data-source';
import { freePort } from '../../../scripts/lib/infra';
import { createTestDatabase, startTestNats } from '../../../test/support/test-infra';
import { ordersDataSource } from '../src/database/orders-data-source';
import { ordersAppOptions } from '../src/orders.app';
import { loadOrdersConfig } from '../src/orders.config';
import type { OrderView } from '../src/orders/dto/order.view';
import { FakeUsersServer } from './support/fake-users.server';
import { countOpenOrders, eventually, httpClient, publishEvent } from './support/orders-test-kit';

const ADMIN = { email: 'admin@example.com', password: 'an admin passphrase for tests' };
const PASSWORD = 'a long enough passphrase';

const cleanups: (() => Promise<void>)[] = [];
let authUrl: string;
let ordersUrl: string;
let grpcUrl: string;
let users: FakeUsersServer;
let nc: NatsConnection;
let pg: Client;
const secrets = {
  users: randomBytes(32).toString('base64url'),
  orders: randomBytes(32).toString('base64url'),
};

const auth = httpClient(() => authUrl);
const orders = httpClient(() => ordersUrl);

async function login(email: string, password = PASSWORD): Promise<string> {
  const response = await auth<{ accessToken: string }>('/auth/login', {
    body: { email, password },
  });
  expect(response.status).toBe(200);
  return response.body.accessToken;
}

/** A user registered through auth (known to users in `region`), with a fresh login token. */
async function register(region = 'eu') {
  const email = `c-${randomUUID()}@example.com`;
  const response = await auth<{ id: string }>('/auth/register', {
    body: { email, password: PASSWORD, displayName: 'Customer', region },
  });
  expect(response.status).toBe(201);
  const id = response.body.id;
  users.profiles.set(id, { id, region });
  return { id, email, token: await login(email) };
}

/** Changes roles or region through auth's admin API, then logs in again for the new claims. */
async function promote(user: { id: string; email: string }, changes: object) {
  const response = await auth(`/admin/users/${user.id}`, {
    method: 'PATCH',
    token: await login(ADMIN.email, ADMIN.password),
    body: changes,
  });
  expect(response.status).toBeLessThan(300);
  // Role changes revoke older tokens from the next whole second: log in after it.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  return { ...user, token: await login(user.email) };
}

/** A client-credentials token from auth (client_secret_basic). */
async function clientToken(client: 'users' | 'orders', audience: string, scope: string) {
  const response = await fetch(`${authUrl}/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${client}:${secrets[client]}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', audience, scope }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

const place = (token: string) =>
  orders<OrderView>('/orders', { token, body: { items: [{ sku: 'HS-004', quantity: 1 }] } });

beforeAll(async () => {
  const nats = await startTestNats();
  cleanups.push(() => nats.stop());
  const [authDb, ordersDb] = await Promise.all([
    createTestDatabase('orders_auth_auth'),
    createTestDatabase('orders_auth_orders'),
  ]);
  cleanups.push(
    () => authDb.drop(),
    () => ordersDb.drop(),
  );
  await Promise.all([
    runMigrations(authDataSource(authDb.url)),
    runMigrations(ordersDataSource(ordersDb.url)),
  ]);
  pg = new Client({ connectionString: ordersDb.url });
  await pg.connect();
  cleanups.unshift(() => pg.end());
  nc = await connect({ servers: nats.url });
  cleanups.unshift(() => nc.close());
  // The stream users would own: auth and orders both consume users.deleted from it.
  await ensureStream(await nc.jetstreamManager(), 'USERS', ['users.>']);

  const [authPort, ordersPort, ordersGrpcPort, usersGrpcPort] = await Promise.all(
    Array.from({ length: 4 }, () => freePort()),
  );
  authUrl = `http://127.0.0.1:${authPort}`;
  ordersUrl = `http://127.0.0.1:${ordersPort}`;
  grpcUrl = `127.0.0.1:${ordersGrpcPort}`;
  const jwks = createRemoteJWKSet(new URL(`${authUrl}/.well-known/jwks.json`));
  users = new FakeUsersServer(
    async (token) =>
      (await jwtVerify(token, jwks, { issuer: authUrl, audience: 'users', typ: 'at+jwt' })).payload,
    usersGrpcPort,
  );
  await users.start();
  cleanups.unshift(() => users.stop());

  const common = { NODE_ENV: 'test', HOST: '127.0.0.1', LOG_LEVEL: 'silent', NATS_URL: nats.url };
  const authApp = await createAuthApp(
    loadAuthConfig({
      ...common,
      PORT: String(authPort),
      DATABASE_URL: authDb.url,
      AUTH_ISSUER: authUrl,
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      USERS_CLIENT_SECRET: secrets.users,
      ORDERS_CLIENT_SECRET: secrets.orders,
    }),
  );
  const config = loadOrdersConfig({
    ...common,
    PORT: String(ordersPort),
    GRPC_PORT: String(ordersGrpcPort),
    DATABASE_URL: ordersDb.url,
    AUTH_ISSUER: authUrl,
    USERS_GRPC_URL: users.url,
    CLIENT_SECRET: secrets.orders,
  });
  const ordersApp: NestFastifyApplication = await createServiceApp({
    ...ordersAppOptions(config),
    quiet: true,
  });
  for (const [app, port] of [
    [authApp, authPort],
    [ordersApp, ordersPort],
  ] as const) {
    await app.startAllMicroservices();
    await app.listen({ port, host: '127.0.0.1' });
    cleanups.unshift(() => app.close());
  }
}, 60_000);

afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

describe('orders with the real auth', () => {
  it('calls users with a token auth exchanged for the customer: sub = customer, act.sub = orders, aud = users', async () => {
    const alice = await register('us');
    const response = await place(alice.token);
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ userId: alice.id, region: 'us', status: 'pending' });
    const call = users.calls.filter((recorded) => recorded.id === alice.id).at(-1)!;
    expect(call.token).not.toBe(alice.token);
    // Verified with auth's JWKS by the fake users server (issuer, audience users, typ at+jwt).
    expect(call.claims).toMatchObject({
      iss: authUrl,
      sub: alice.id,
      aud: 'users',
      client_id: 'orders',
      act: { sub: 'orders' },
      roles: ['customer'],
    });
    expect(String(call.claims!.scope).split(' ')).toEqual(['users:read']);
  });

  it('refuses CountOpenOrders to a customer’s login token (scope lists orders:read) and answers users’ client-credentials token', async () => {
    const alice = await register();
    expect((await place(alice.token)).status).toBe(201);
    expect((await countOpenOrders(grpcUrl, alice.id, alice.token)).code).toBe(7);
    const usersToken = await clientToken('users', 'orders', 'orders:read');
    expect(await countOpenOrders(grpcUrl, alice.id, usersToken)).toEqual({ code: 0, count: 1 });
  });

  it('limits support promoted through auth to the orders of their region, and never lets them cancel', async () => {
    const alice = await register('eu');
    const order = (await place(alice.token)).body;
    const agent = await register('us');
    const usSupport = await promote(agent, { roles: ['support'] });
    expect((await orders(`/orders/${order.id}`, { token: usSupport.token })).status).toBe(404);
    const euSupport = await promote(agent, { region: 'eu' });
    expect((await orders(`/orders/${order.id}`, { token: euSupport.token })).status).toBe(200);
    const cancel = await orders(`/orders/${order.id}/cancel`, {
      method: 'POST',
      token: euSupport.token,
    });
    expect(cancel.status).toBe(403);
  }, 30_000);

  it('dead-letters users.deleted signed by orders’ own or a customer’s token, and applies it from users', async () => {
    const alice = await register();
    const order = (await place(alice.token)).body;
    const forgeries = [
      [await clientToken('orders', 'events', 'events:publish'), 'PERMISSION_DENIED'],
      [alice.token, 'UNAUTHENTICATED'],
    ] as const;
    for (const [token, code] of forgeries) {
      const { messageId } = await publishEvent(nc, 'users.deleted', { userId: alice.id }, token);
      const letter = await eventually(async () => {
        const { rows } = await pg.query(
          'SELECT error_code FROM dead_letters WHERE message_id = $1',
          [messageId],
        );
        return rows[0] as { error_code: string } | undefined;
      });
      expect(letter.error_code).toBe(code);
    }
    const owner = async () =>
      (await pg.query('SELECT user_id FROM orders WHERE id = $1', [order.id])).rows[0].user_id;
    expect(await owner()).toBe(alice.id);

    const usersToken = await clientToken('users', 'events', 'events:publish');
    await publishEvent(nc, 'users.deleted', { userId: alice.id }, usersToken);
    await eventually(async () => (await owner()) === null);
  }, 30_000);
});
