// orders, black-box over real Fastify, grpc-js, PostgreSQL and nats-server. Tokens come from a
// test issuer (test/security/support/test-issuer.ts, which also performs RFC 8693 exchanges),
// and users is a fake gRPC server that verifies and records what orders sends it. The same
// rules against the real auth are in orders-with-auth.e2e-spec.ts.
import 'reflect-metadata';
import {
  ApiError,
  createServiceApp,
  ensureStream,
  InboxService,
  RetentionSweeper,
  runMigrations,
} from '@app/platform';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { jwtVerify } from 'jose';
import { connect, type NatsConnection } from 'nats';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort, startNatsServer } from '../../../scripts/lib/infra';
import { T0, TestIssuer } from '../../../test/security/support/test-issuer';
import { createTestDatabase } from '../../../test/support/test-infra';
import { CATALOG } from '../src/catalog/catalog';
import { ordersDataSource } from '../src/database/orders-data-source';
import { ordersAppOptions } from '../src/orders.app';
import { loadOrdersConfig } from '../src/orders.config';
import type { OrderPage, OrderView } from '../src/orders/dto/order.view';
import { UsersGrpcClient } from '../src/users-client/users.grpc.client';
import { FakeUsersServer } from './support/fake-users.server';
import {
  claimsOf,
  countOpenOrders,
  eventually,
  httpClient,
  publishEvent,
} from './support/orders-test-kit';

const RATE_LIMIT = 5;
const PAGE_MAX = 3;
const DEADLINE_MS = 300;

let issuer: TestIssuer;
let nats: Awaited<ReturnType<typeof startNatsServer>>;
let natsPort: number;
let storeDir: string;
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let users: FakeUsersServer;
let app: NestFastifyApplication;
let baseUrl: string;
let grpcUrl: string;
let pg: Client;
let nc: NatsConnection;

const http = httpClient(() => baseUrl);

interface Caller {
  id: string;
  token: string;
}

/** A customer known to users (in `profileRegion`), with a login token claiming `tokenRegion`. */
async function customer(profileRegion = 'eu', tokenRegion = profileRegion): Promise<Caller> {
  const id = randomUUID();
  users.profiles.set(id, { id, region: profileRegion });
  return {
    id,
    token: await issuer.userToken({ sub: id, roles: ['customer'], region: tokenRegion }),
  };
}

async function staff(role: 'support' | 'admin', region = 'eu'): Promise<Caller> {
  const id = randomUUID();
  users.profiles.set(id, { id, region, roles: [role] });
  return { id, token: await issuer.userToken({ sub: id, roles: [role], region }) };
}

const serviceToken = (clientId: string, audience: string, scope: string) =>
  issuer.serviceToken(clientId, audience, scope);

function place(
  caller: Caller,
  body: unknown = { items: [{ sku: 'KB-001', quantity: 2 }] },
  headers?: Record<string, string>,
) {
  return http<OrderView>('/orders', { token: caller.token, body, headers });
}

async function placed(caller: Caller): Promise<OrderView> {
  const response = await place(caller);
  expect(response.status).toBe(201);
  return response.body;
}

/** An order written straight to the database (no rate limit, any state). */
async function seedOrder(userId: string | null, region: string, status = 'pending') {
  const id = randomUUID();
  await pg.query(
    `INSERT INTO orders (id, user_id, region, status, currency, total, created_at, updated_at)
     VALUES ($1, $2, $3, $4, 'EUR', 3500, now(), now())`,
    [id, userId, region, status],
  );
  await pg.query(
    `INSERT INTO order_items (order_id, line, sku, name, unit_price, quantity, line_total)
     VALUES ($1, 1, 'MS-002', 'Wireless mouse', 3500, 1, 3500)`,
    [id],
  );
  return id;
}

const count = async (sql: string, params: unknown[] = []) =>
  ((await pg.query(sql, params)).rows[0] as { n: number }).n;

const ordersOf = (userId: string) =>
  count('SELECT count(*)::int AS n FROM orders WHERE user_id = $1', [userId]);

const outboxFor = (orderId: string) =>
  pg
    .query(
      `SELECT subject, payload FROM outbox_messages WHERE payload->>'orderId' = $1 ORDER BY created_at`,
      [orderId],
    )
    .then((result) => result.rows as { subject: string; payload: Record<string, unknown> }[]);

async function deadLetter(messageId: string) {
  return eventually(async () => {
    const { rows } = await pg.query(
      'SELECT error_code, reason FROM dead_letters WHERE message_id = $1',
      [messageId],
    );
    return rows[0] as { error_code: string; reason: string } | undefined;
  });
}

beforeAll(async () => {
  issuer = await TestIssuer.create();
  await issuer.listen();
  natsPort = await freePort();
  storeDir = mkdtempSync(join(tmpdir(), 'orders-nats-'));
  [nats, database] = await Promise.all([
    startNatsServer({ port: natsPort, storeDir }),
    createTestDatabase('orders'),
  ]);
  await runMigrations(ordersDataSource(database.url));
  pg = new Client({ connectionString: database.url });
  await pg.connect();
  users = new FakeUsersServer(
    async (token) =>
      (await jwtVerify(token, issuer.localKeys(), { issuer: issuer.url, audience: 'users' }))
        .payload,
    await freePort(),
  );
  await users.start();
  nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  const jsm = await nc.jetstreamManager();
  // Streams users and auth would own: orders consumes USERS and follows auth.revocations.
  await ensureStream(jsm, 'USERS', ['users.>']);
  await ensureStream(jsm, 'AUTH', ['auth.>']);

  const [port, grpcPort] = await Promise.all([freePort(), freePort()]);
  grpcUrl = `127.0.0.1:${grpcPort}`;
  const config = loadOrdersConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    PORT: String(port),
    GRPC_PORT: String(grpcPort),
    DATABASE_URL: database.url,
    NATS_URL: nats.url,
    AUTH_ISSUER: issuer.url,
    USERS_GRPC_URL: users.url,
    USERS_GRPC_DEADLINE_MS: String(DEADLINE_MS),
    CLIENT_SECRET: 'secret-orders',
    ORDERS_RATE_LIMIT_MAX: String(RATE_LIMIT),
    ORDERS_PAGE_SIZE_DEFAULT: '2',
    ORDERS_PAGE_SIZE_MAX: String(PAGE_MAX),
  });
  app = await createServiceApp({ ...ordersAppOptions(config), quiet: true });
  await app.startAllMicroservices();
  await app.listen({ port, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${port}`;
}, 60_000);

afterAll(async () => {
  await app?.close();
  await nc?.close();
  await pg?.end();
  await users?.stop();
  await Promise.all([issuer?.close(), nats?.stop(), database?.drop()]);
  rmSync(storeDir, { recursive: true, force: true });
});

describe('POST /orders', () => {
  it('refuses a caller without a token (deny by default)', async () => {
    const response = await http('/orders', { body: { items: [{ sku: 'KB-001', quantity: 1 }] } });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="orders"');
    expect(response.body.error).toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('prices from the catalog, computes the total and stores the region users answered', async () => {
    // The token says eu; users says us: the order belongs to the region users knows.
    const alice = await customer('us', 'eu');
    const response = await place(alice, {
      items: [
        { sku: 'KB-001', quantity: 2 },
        { sku: 'MN-003', quantity: 1 },
      ],
    });
    expect(response.status).toBe(201);
    const price = (sku: string) => CATALOG.find((item) => item.sku === sku)!.price;
    expect(response.body).toMatchObject({
      userId: alice.id,
      region: 'us',
      status: 'pending',
      currency: 'EUR',
      total: 2 * price('KB-001') + price('MN-003'),
      items: [
        { sku: 'KB-001', quantity: 2, unitPrice: price('KB-001'), lineTotal: 2 * price('KB-001') },
        { sku: 'MN-003', quantity: 1, unitPrice: price('MN-003'), lineTotal: price('MN-003') },
      ],
    });
    const events = await outboxFor(response.body.id);
    expect(events).toEqual([
      expect.objectContaining({
        subject: 'orders.created',
        payload: expect.objectContaining({ orderId: response.body.id, userId: alice.id }),
      }),
    ]);
  });

  it('asks users with a token exchanged for the customer (act = orders), never the customer’s own token', async () => {
    const alice = await customer();
    const exchangesBefore = issuer.tokenRequests.length;
    const order = await placed(alice);
    const call = users.calls.filter((recorded) => recorded.id === alice.id).at(-1)!;
    expect(call.token).toBeDefined();
    expect(call.token).not.toBe(alice.token);
    expect(call.claims).toMatchObject({
      sub: alice.id,
      aud: 'users',
      client_id: 'orders',
      act: { sub: 'orders' },
    });
    const exchange = issuer.tokenRequests
      .slice(exchangesBefore)
      .find((form) => form.grant_type === 'urn:ietf:params:oauth:grant-type:token-exchange');
    expect(exchange).toMatchObject({ subject_token: alice.token, audience: 'users' });
    expect(order.userId).toBe(alice.id);
  });

  it.each(['price', 'total', 'status', 'userId'])(
    'refuses a body naming %s with a 400 naming the field, and writes nothing',
    async (field) => {
      const alice = await customer();
      const response = await place(alice, {
        items: [{ sku: 'KB-001', quantity: 1 }],
        [field]: field === 'userId' ? randomUUID() : 1,
      });
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('BAD_REQUEST');
      expect(response.body.error.message).toContain(`property ${field} should not exist`);
      expect(await ordersOf(alice.id)).toBe(0);
    },
  );

  it('refuses unknown fields at any depth, naming their path', async () => {
    const alice = await customer();
    const nested = await place(alice, { items: [{ sku: 'KB-001', quantity: 1, price: 1 }] });
    expect(nested.status).toBe(400);
    expect(nested.body.error.message).toContain('items.0.property price should not exist');
    const other = await place(alice, {
      items: [
        { sku: 'KB-001', quantity: 1 },
        { sku: 'MS-002', quantity: 1, discount: { pct: 1 } },
      ],
    });
    expect(other.status).toBe(400);
    expect(other.body.error.message).toContain('items.1.property discount should not exist');
    expect(await ordersOf(alice.id)).toBe(0);
  });

  it.each([
    ['quantity 0', { items: [{ sku: 'KB-001', quantity: 0 }] }, 'items.0.quantity'],
    ['quantity 101', { items: [{ sku: 'KB-001', quantity: 101 }] }, 'items.0.quantity'],
    ['a fractional quantity', { items: [{ sku: 'KB-001', quantity: 1.5 }] }, 'items.0.quantity'],
    ['a quantity as a string', { items: [{ sku: 'KB-001', quantity: '2' }] }, 'items.0.quantity'],
    ['no items', { items: [] }, 'items'],
    [
      '51 items',
      { items: Array.from({ length: 51 }, () => ({ sku: 'KB-001', quantity: 1 })) },
      'items',
    ],
    [
      'an unknown sku',
      { items: [{ sku: 'NOPE-1', quantity: 1 }] },
      'items.0.sku is not in the catalog',
    ],
    [
      'a repeated sku',
      {
        items: [
          { sku: 'KB-001', quantity: 1 },
          { sku: 'KB-001', quantity: 1 },
        ],
      },
      'items.1.sku',
    ],
  ])('refuses %s with a 400', async (_case, body, named) => {
    const alice = await customer();
    const response = await place(alice, body);
    expect(response.status).toBe(400);
    expect(response.body.error.message).toContain(named);
    expect(await ordersOf(alice.id)).toBe(0);
  });

  it('refuses support and admin: placing orders is for customers (BFLA)', async () => {
    for (const role of ['support', 'admin'] as const) {
      const response = await place(await staff(role));
      expect(response.status).toBe(403);
      expect(response.body.error.code).toBe('FORBIDDEN');
    }
  });

  it('refuses a service token and a token a service obtained for the customer: only the customer’s own token places orders', async () => {
    const service = { id: 'users', token: await serviceToken('users', 'orders', 'orders:read') };
    expect((await place(service)).status).toBe(403);
    const alice = await customer();
    const delegated = await issuer.userToken({
      sub: alice.id,
      aud: 'orders',
      client_id: 'users',
      act: { sub: 'users' },
    });
    expect((await place({ id: alice.id, token: delegated })).status).toBe(403);
    expect(await ordersOf(alice.id)).toBe(0);
  });

  it('answers 409 when users does not know the customer, and writes nothing', async () => {
    const ghost = { id: randomUUID(), token: '' };
    ghost.token = await issuer.userToken({ sub: ghost.id });
    const response = await place(ghost);
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('PROFILE_NOT_FOUND');
    expect(await ordersOf(ghost.id)).toBe(0);
  });
});

describe('Idempotency-Key', () => {
  it('returns the same status and body for a replay by the same user, and writes once', async () => {
    const alice = await customer();
    const key = `k-${randomUUID()}`;
    const first = await place(alice, undefined, { 'idempotency-key': key });
    const again = await place(alice, undefined, { 'idempotency-key': key });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await ordersOf(alice.id)).toBe(1);
    expect(await outboxFor(first.body.id)).toHaveLength(1);
  });

  it('places one order for concurrent requests with the same key', async () => {
    const alice = await customer();
    const key = `c-${randomUUID()}`;
    const [a, b] = await Promise.all([
      place(alice, undefined, { 'idempotency-key': key }),
      place(alice, undefined, { 'idempotency-key': key }),
    ]);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.id).toBe(b.body.id);
    expect(await ordersOf(alice.id)).toBe(1);
  });

  it('refuses a replay with a different body with 422 and writes nothing more', async () => {
    const alice = await customer();
    const key = `d-${randomUUID()}`;
    await place(alice, undefined, { 'idempotency-key': key });
    const other = await place(
      alice,
      { items: [{ sku: 'HS-004', quantity: 1 }] },
      {
        'idempotency-key': key,
      },
    );
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await ordersOf(alice.id)).toBe(1);
  });

  it('keeps keys per user: another user’s identical key places their own order', async () => {
    const [alice, bob] = [await customer(), await customer()];
    const key = `shared-${randomUUID()}`;
    const a = await place(alice, undefined, { 'idempotency-key': key });
    const b = await place(bob, undefined, { 'idempotency-key': key });
    expect(b.status).toBe(201);
    expect(b.body.id).not.toBe(a.body.id);
    expect(b.body.userId).toBe(bob.id);
  });

  it('forgets a key once it is past its TTL (the retention sweeper deletes it), not before', async () => {
    const alice = await customer();
    const [old, fresh] = [`old-${randomUUID()}`, `fresh-${randomUUID()}`];
    await place(alice, undefined, { 'idempotency-key': old });
    await place(alice, undefined, { 'idempotency-key': fresh });
    await pg.query(
      `UPDATE idempotency_keys SET created_at = now() - interval '25 hours'
        WHERE user_id = $1 AND key = $2`,
      [alice.id, old],
    );
    const deleted = await app.get(RetentionSweeper).sweep();
    expect(deleted.idempotency_keys).toBeGreaterThanOrEqual(1);
    const kept = await pg.query('SELECT key FROM idempotency_keys WHERE user_id = $1', [alice.id]);
    expect(kept.rows).toEqual([{ key: fresh }]);
  });

  it.each([['a'.repeat(129)], ['has space'], ['semi;colon'], ['quote"']])(
    'refuses the malformed key %j with a 400 and writes nothing',
    async (key) => {
      const alice = await customer();
      const response = await place(alice, undefined, { 'idempotency-key': key });
      expect(response.status).toBe(400);
      expect(response.body.error.message).toContain('Idempotency-Key');
      expect(await ordersOf(alice.id)).toBe(0);
    },
  );
});

describe('rate limit', () => {
  it(`answers 429 with Retry-After past ${RATE_LIMIT} orders per user per window, and only for that user`, async () => {
    const alice = await customer();
    for (let i = 0; i < RATE_LIMIT; i += 1) expect((await place(alice)).status).toBe(201);
    const limited = await place(alice);
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await ordersOf(alice.id)).toBe(RATE_LIMIT);
    expect((await place(await customer())).status).toBe(201);
  });
});

describe('GET /orders/:id', () => {
  it('shows the owner their order', async () => {
    const alice = await customer();
    const order = await placed(alice);
    const response = await http<OrderView>(`/orders/${order.id}`, { token: alice.token });
    expect(response.status).toBe(200);
    expect(response.body).toEqual(order);
  });

  it('answers 404 to another customer, as for an order that does not exist (BOLA)', async () => {
    const [alice, bob] = [await customer(), await customer()];
    const order = await placed(alice);
    const theirs = await http(`/orders/${order.id}`, { token: bob.token });
    const missing = await http(`/orders/${randomUUID()}`, { token: bob.token });
    expect(theirs.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(theirs.body.error.code).toBe(missing.body.error.code);
    expect(theirs.body.error.message).toBe(missing.body.error.message);
  });

  it('shows support the orders of their region only', async () => {
    const euOrder = await seedOrder(randomUUID(), 'eu');
    const usOrder = await seedOrder(randomUUID(), 'us');
    const support = await staff('support', 'eu');
    expect((await http(`/orders/${euOrder}`, { token: support.token })).status).toBe(200);
    expect((await http(`/orders/${usOrder}`, { token: support.token })).status).toBe(404);
  });

  it('shows an admin every order', async () => {
    const admin = await staff('admin', 'apac');
    for (const region of ['eu', 'us']) {
      const id = await seedOrder(randomUUID(), region);
      expect((await http(`/orders/${id}`, { token: admin.token })).status).toBe(200);
    }
  });

  it('answers 404 to a service token, whatever its scope', async () => {
    const id = await seedOrder(randomUUID(), 'eu');
    const token = await serviceToken('users', 'orders', 'orders:read');
    expect((await http(`/orders/${id}`, { token })).status).toBe(404);
  });

  it('answers 400 to an id that is not a UUID', async () => {
    const alice = await customer();
    expect((await http('/orders/1%20OR%201=1', { token: alice.token })).status).toBe(400);
  });
});

describe('GET /orders', () => {
  async function allPages(token: string, limit?: number) {
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query = new URLSearchParams();
      if (limit) query.set('limit', String(limit));
      if (cursor) query.set('cursor', cursor);
      const response = await http<OrderPage>(`/orders?${query}`, { token });
      expect(response.status).toBe(200);
      expect(response.body.items.length).toBeLessThanOrEqual(PAGE_MAX);
      ids.push(...response.body.items.map((order) => order.id));
      cursor = response.body.nextCursor;
      pages += 1;
    } while (cursor && pages < 100);
    return ids;
  }

  it('lists a customer’s own orders only, newest first, across pages without gaps or repeats', async () => {
    const alice = await customer();
    const mine = [];
    for (let i = 0; i < 5; i += 1) mine.push(await seedOrder(alice.id, 'eu'));
    await seedOrder(randomUUID(), 'eu');
    const listed = await allPages(alice.token);
    expect([...listed].sort()).toEqual([...mine].sort());
    const rows = await pg.query(
      'SELECT id FROM orders WHERE user_id = $1 ORDER BY created_at DESC, id DESC',
      [alice.id],
    );
    expect(listed).toEqual(rows.rows.map((row: { id: string }) => row.id));
  });

  it('lists support the orders of their region only', async () => {
    const region = `r${randomUUID().slice(0, 8)}`;
    const inRegion = [await seedOrder(randomUUID(), region), await seedOrder(null, region)];
    await seedOrder(randomUUID(), 'us');
    const support = await staff('support', region);
    expect((await allPages(support.token)).sort()).toEqual(inRegion.sort());
  });

  it('lists an admin every order', async () => {
    const admin = await staff('admin');
    const total = await count('SELECT count(*)::int AS n FROM orders');
    expect(await allPages(admin.token, PAGE_MAX)).toHaveLength(total);
  });

  it('caps the page size at ORDERS_PAGE_SIZE_MAX', async () => {
    const admin = await staff('admin');
    for (let i = 0; i < PAGE_MAX + 1; i += 1) await seedOrder(randomUUID(), 'eu');
    const response = await http<OrderPage>('/orders?limit=400', { token: admin.token });
    expect(response.body.items).toHaveLength(PAGE_MAX);
    expect(response.body.nextCursor).toEqual(expect.any(String));
    expect((await http('/orders?limit=501', { token: admin.token })).status).toBe(400);
    expect((await http('/orders?limit=0', { token: admin.token })).status).toBe(400);
  });

  it('refuses a malformed cursor and unknown query parameters with a 400', async () => {
    const alice = await customer();
    const forged = Buffer.from(JSON.stringify(['x', "1' OR 1=1"])).toString('base64url');
    expect((await http(`/orders?cursor=${forged}`, { token: alice.token })).status).toBe(400);
    expect((await http('/orders?cursor=%27%3B', { token: alice.token })).status).toBe(400);
    expect((await http('/orders?userId=x', { token: alice.token })).status).toBe(400);
  });

  it('refuses a cursor whose time PostgreSQL cannot store with the same 400, not a 500', async () => {
    const admin = await staff('admin');
    const forged = Buffer.from(
      JSON.stringify(['-005000-01-01T00:00:00.000Z', '00000000-0000-4000-8000-000000000000']),
    ).toString('base64url');
    const response = await http(`/orders?cursor=${forged}`, { token: admin.token });
    expect(response.status).toBe(400);
    expect(response.body.error.message).toBe('cursor is malformed');
  });

  it('lists nothing to a service token', async () => {
    const token = await serviceToken('users', 'orders', 'orders:read');
    const response = await http<OrderPage>('/orders', { token });
    expect(response.status).toBe(200);
    expect(response.body.items).toEqual([]);
  });
});

describe('POST /orders/:id/cancel', () => {
  const cancel = (id: string, caller: Caller) =>
    http<OrderView>(`/orders/${id}/cancel`, { method: 'POST', token: caller.token });

  it('lets the owner cancel a pending order and records orders.cancelled in the same change', async () => {
    const alice = await customer();
    const order = await placed(alice);
    const response = await cancel(order.id, alice);
    expect(response.status).toBe(200);
    expect(response.body.status).toBe('cancelled');
    const subjects = (await outboxFor(order.id)).map((event) => event.subject).sort();
    expect(subjects).toEqual(['orders.cancelled', 'orders.created']);
  });

  it('answers 409 to the owner once the order is no longer pending', async () => {
    const alice = await customer();
    for (const status of ['confirmed', 'shipped', 'cancelled']) {
      const id = await seedOrder(alice.id, 'eu', status);
      const response = await cancel(id, alice);
      expect(response.status).toBe(409);
      expect(response.body.error.code).toBe('ORDER_STATE_CONFLICT');
      expect((await pg.query('SELECT status FROM orders WHERE id = $1', [id])).rows[0].status).toBe(
        status,
      );
    }
  });

  it('answers 404 to another customer and leaves the order alone (BOLA)', async () => {
    const [alice, bob] = [await customer(), await customer()];
    const order = await placed(alice);
    expect((await cancel(order.id, bob)).status).toBe(404);
    expect((await http<OrderView>(`/orders/${order.id}`, { token: alice.token })).body.status).toBe(
      'pending',
    );
  });

  it('answers 403 to support in the order’s region (may see, may not cancel) and 404 outside it', async () => {
    const euOrder = await seedOrder(randomUUID(), 'eu');
    const usOrder = await seedOrder(randomUUID(), 'us');
    const support = await staff('support', 'eu');
    const response = await cancel(euOrder, support);
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('FORBIDDEN');
    expect((await cancel(usOrder, support)).status).toBe(404);
    expect(await outboxFor(euOrder)).toEqual([]);
  });

  it('lets an admin cancel a pending or confirmed order, and answers 409 once it is shipped or cancelled', async () => {
    const admin = await staff('admin');
    for (const status of ['pending', 'confirmed']) {
      const id = await seedOrder(randomUUID(), 'us', status);
      const response = await cancel(id, admin);
      expect(response.status).toBe(200);
      expect(response.body.status).toBe('cancelled');
      expect((await outboxFor(id)).map((event) => event.subject)).toEqual(['orders.cancelled']);
    }
    for (const status of ['shipped', 'cancelled']) {
      const id = await seedOrder(randomUUID(), 'us', status);
      expect((await cancel(id, admin)).status).toBe(409);
      expect(await outboxFor(id)).toEqual([]);
    }
  });
});

describe('admin transitions (extension: confirm, ship)', () => {
  const act = (id: string, action: string, caller: Caller) =>
    http<OrderView>(`/orders/${id}/${action}`, { method: 'POST', token: caller.token });

  it('lets an admin confirm a pending order and ship a confirmed one, in that order only', async () => {
    const admin = await staff('admin');
    const id = await seedOrder(randomUUID(), 'eu');
    expect((await act(id, 'ship', admin)).status).toBe(409);
    expect((await act(id, 'confirm', admin)).body.status).toBe('confirmed');
    expect((await act(id, 'confirm', admin)).status).toBe(409);
    expect((await act(id, 'ship', admin)).body.status).toBe('shipped');
  });

  it('refuses the owner (403), support of the region (403) and other customers (404) (BFLA)', async () => {
    const alice = await customer();
    const support = await staff('support', 'eu');
    const bob = await customer();
    for (const action of ['confirm', 'ship']) {
      const id = await seedOrder(alice.id, 'eu', action === 'ship' ? 'confirmed' : 'pending');
      expect((await act(id, action, alice)).status).toBe(403);
      expect((await act(id, action, support)).status).toBe(403);
      expect((await act(id, action, bob)).status).toBe(404);
    }
  });
});

describe('gRPC CountOpenOrders', () => {
  async function withOrders() {
    const userId = randomUUID();
    for (const status of ['pending', 'confirmed', 'shipped', 'cancelled', 'pending']) {
      await seedOrder(userId, 'eu', status);
    }
    await seedOrder(randomUUID(), 'eu');
    return userId;
  }

  it('counts pending and confirmed orders for a service with orders:read', async () => {
    const userId = await withOrders();
    const token = await serviceToken('users', 'orders', 'orders:read');
    expect(await countOpenOrders(grpcUrl, userId, token)).toEqual({ code: 0, count: 3 });
  });

  it('refuses a customer’s own token with PERMISSION_DENIED although its scope lists orders:read', async () => {
    const userId = await withOrders();
    const token = await issuer.userToken({
      sub: userId,
      scope: 'users:read users:write orders:read orders:write',
    });
    expect((await countOpenOrders(grpcUrl, userId, token)).code).toBe(7);
  });

  it('refuses admin and delegated user tokens with PERMISSION_DENIED', async () => {
    const userId = await withOrders();
    const admin = await issuer.userToken({ roles: ['admin'], scope: 'orders:read' });
    const delegated = await issuer.userToken({
      sub: userId,
      aud: 'orders',
      client_id: 'users',
      act: { sub: 'users' },
      scope: 'orders:read',
    });
    expect((await countOpenOrders(grpcUrl, userId, admin)).code).toBe(7);
    expect((await countOpenOrders(grpcUrl, userId, delegated)).code).toBe(7);
  });

  it('refuses a service token without orders:read with PERMISSION_DENIED', async () => {
    const token = await serviceToken('users', 'orders', 'orders:write');
    expect((await countOpenOrders(grpcUrl, randomUUID(), token)).code).toBe(7);
  });

  it('answers UNAUTHENTICATED to no token, a garbage token, another audience and an expired token', async () => {
    const userId = randomUUID();
    const tokens = [
      undefined,
      'not-a-jwt',
      await serviceToken('users', 'users', 'orders:read'),
      await issuer.serviceToken('users', 'orders', 'orders:read', { iat: T0 - 900, exp: T0 - 600 }),
    ];
    for (const token of tokens)
      expect((await countOpenOrders(grpcUrl, userId, token)).code).toBe(16);
  });

  it('answers INVALID_ARGUMENT, not UNKNOWN, to a user_id that is not a UUID', async () => {
    const token = await serviceToken('users', 'orders', 'orders:read');
    expect((await countOpenOrders(grpcUrl, 'nope', token)).code).toBe(3);
  });
});

describe('users.deleted', () => {
  const usersEventsToken = () => serviceToken('users', 'events', 'events:publish');

  it('anonymizes the customer’s orders and keeps amounts and region for accounting', async () => {
    const alice = await customer('us');
    const order = await placed(alice);
    const bobOrder = await seedOrder(randomUUID(), 'us');
    const { messageId } = await publishEvent(
      nc,
      'users.deleted',
      { userId: alice.id },
      await usersEventsToken(),
    );
    await eventually(async () => (await ordersOf(alice.id)) === 0);
    const { rows } = await pg.query(
      'SELECT user_id, region, total, anonymized_at FROM orders WHERE id = $1',
      [order.id],
    );
    expect(rows[0]).toMatchObject({ user_id: null, region: 'us', total: order.total });
    expect(rows[0].anonymized_at).toBeInstanceOf(Date);
    expect(
      (await pg.query('SELECT user_id FROM orders WHERE id = $1', [bobOrder])).rows[0].user_id,
    ).not.toBeNull();
    expect(
      await count('SELECT count(*)::int AS n FROM inbox_messages WHERE message_id = $1', [
        messageId,
      ]),
    ).toBe(1);
    // The former owner's token no longer reaches it; an admin still sees it, without a user.
    expect((await http(`/orders/${order.id}`, { token: alice.token })).status).toBe(404);
    const admin = await staff('admin');
    expect(
      (await http<OrderView>(`/orders/${order.id}`, { token: admin.token })).body.userId,
    ).toBeNull();
  });

  it('cancels an order placed while the account was being deleted, and records orders.cancelled', async () => {
    // users counted no open order and deleted the account while this order was committing.
    const alice = await customer('eu');
    const order = await placed(alice);
    await publishEvent(nc, 'users.deleted', { userId: alice.id }, await usersEventsToken());
    await eventually(async () => (await ordersOf(alice.id)) === 0);
    const { rows } = await pg.query('SELECT status, user_id FROM orders WHERE id = $1', [order.id]);
    expect(rows[0]).toEqual({ status: 'cancelled', user_id: null });
    expect((await outboxFor(order.id)).map((event) => event.subject)).toEqual([
      'orders.created',
      'orders.cancelled',
    ]);
  });

  /**
   * Runs `change` as an admin's transition() runs it, in a transaction of its own holding the
   * order's row lock, publishes users.deleted for `userId`, and commits only once the deletion
   * waits on that lock; resolves when the deletion has been applied.
   */
  async function raceUsersDeleted(
    orderId: string,
    userId: string,
    change: (tx: Client) => Promise<void>,
  ): Promise<void> {
    const tx = new Client({ connectionString: database.url });
    await tx.connect();
    try {
      await tx.query('BEGIN');
      const { pid } = (await tx.query('SELECT pg_backend_pid() AS pid')).rows[0] as { pid: number };
      await tx.query('SELECT id FROM orders WHERE id = $1 FOR UPDATE', [orderId]);
      await change(tx);
      await publishEvent(nc, 'users.deleted', { userId }, await usersEventsToken());
      await eventually(
        async () =>
          (await count(
            'SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))',
            [pid],
          )) > 0,
      );
      await tx.query('COMMIT');
    } finally {
      await tx.end();
    }
    await eventually(async () => (await ordersOf(userId)) === 0);
  }

  it('leaves an order an admin shipped meanwhile shipped, and records no orders.cancelled for it', async () => {
    const alice = await customer('eu');
    const orderId = await seedOrder(alice.id, 'eu', 'confirmed');
    await raceUsersDeleted(orderId, alice.id, async (tx) => {
      await tx.query(`UPDATE orders SET status = 'shipped', updated_at = now() WHERE id = $1`, [
        orderId,
      ]);
    });
    const { rows } = await pg.query('SELECT status, user_id FROM orders WHERE id = $1', [orderId]);
    expect(rows[0]).toEqual({ status: 'shipped', user_id: null });
    expect(await outboxFor(orderId)).toEqual([]);
  });

  it('records one orders.cancelled for an order an admin cancelled meanwhile', async () => {
    const alice = await customer('eu');
    const orderId = await seedOrder(alice.id, 'eu', 'pending');
    const adminEvent = { orderId, previousStatus: 'pending', status: 'cancelled' };
    await raceUsersDeleted(orderId, alice.id, async (tx) => {
      await tx.query(`UPDATE orders SET status = 'cancelled', updated_at = now() WHERE id = $1`, [
        orderId,
      ]);
      await tx.query(
        `INSERT INTO outbox_messages (id, subject, payload) VALUES ($1, 'orders.cancelled', $2)`,
        [randomUUID(), JSON.stringify(adminEvent)],
      );
    });
    expect(await outboxFor(orderId)).toEqual([
      { subject: 'orders.cancelled', payload: adminEvent },
    ]);
  });

  it('places no order for a deleted customer, though users still answered with the profile', async () => {
    // The order request read the profile just before users deleted it.
    const alice = await customer('eu');
    const { messageId } = await publishEvent(
      nc,
      'users.deleted',
      { userId: alice.id },
      await usersEventsToken(),
    );
    await eventually(async () =>
      (await count('SELECT count(*)::int AS n FROM inbox_messages WHERE message_id = $1', [
        messageId,
      ])) === 1
        ? true
        : undefined,
    );
    const response = await place(alice);
    expect(response.status).toBe(409);
    expect(
      await count('SELECT count(*)::int AS n FROM orders WHERE user_id = $1', [alice.id]),
    ).toBe(0);
  });

  it.each([
    ['no token', async () => undefined, 'UNAUTHENTICATED'],
    ['a customer’s login token', () => issuer.userToken(), 'UNAUTHENTICATED'],
    [
      'a customer’s token minted for events',
      () => issuer.userToken({ aud: 'events', scope: 'events:publish' }),
      'PERMISSION_DENIED',
    ],
    [
      'orders’ own events token',
      () => serviceToken('orders', 'events', 'events:publish'),
      'PERMISSION_DENIED',
    ],
    [
      'auth’s events token',
      () => serviceToken('auth', 'events', 'events:publish'),
      'PERMISSION_DENIED',
    ],
    [
      'users’ token without events:publish',
      () => serviceToken('users', 'events', 'users:read'),
      'PERMISSION_DENIED',
    ],
    [
      'users’ token for another audience',
      () => serviceToken('users', 'orders', 'events:publish'),
      'UNAUTHENTICATED',
    ],
  ])('changes nothing and dead-letters a users.deleted carrying %s', async (_case, token, code) => {
    const victim = randomUUID();
    const id = await seedOrder(victim, 'eu');
    const { messageId } = await publishEvent(
      nc,
      'users.deleted',
      { userId: victim },
      await token(),
    );
    expect((await deadLetter(messageId)).error_code).toBe(code);
    expect(await ordersOf(victim)).toBe(1);
    expect(
      await count('SELECT count(*)::int AS n FROM inbox_messages WHERE message_id = $1', [
        messageId,
      ]),
    ).toBe(0);
    expect((await pg.query('SELECT user_id FROM orders WHERE id = $1', [id])).rows[0].user_id).toBe(
      victim,
    );
  });

  it('dead-letters a users.deleted whose payload is not exactly {userId: uuid}', async () => {
    const victim = randomUUID();
    await seedOrder(victim, 'eu');
    for (const payload of [{ userId: victim, extra: 1 }, { userId: 'x' }, { id: victim }]) {
      const { messageId } = await publishEvent(
        nc,
        'users.deleted',
        payload,
        await usersEventsToken(),
      );
      expect((await deadLetter(messageId)).error_code).toBe('INVALID_ARGUMENT');
    }
    expect(await ordersOf(victim)).toBe(1);
  });

  it('applies a message published twice with the same Nats-Msg-Id once', async () => {
    const victim = randomUUID();
    await seedOrder(victim, 'eu');
    const messageId = randomUUID();
    const token = await usersEventsToken();
    await publishEvent(nc, 'users.deleted', { userId: victim }, token, messageId);
    const second = await publishEvent(nc, 'users.deleted', { userId: victim }, token, messageId);
    expect(second.duplicate).toBe(true);
    await eventually(async () => (await ordersOf(victim)) === 0);
    expect(
      await count('SELECT count(*)::int AS n FROM inbox_messages WHERE message_id = $1', [
        messageId,
      ]),
    ).toBe(1);
  });

  it('applies a message redelivered after a crash before its ack once', async () => {
    const victim = randomUUID();
    await seedOrder(victim, 'eu');
    const inbox = app.get(InboxService);
    const original = inbox.processOnce.bind(inbox);
    const runs: boolean[] = [];
    const spy = jest.spyOn(inbox, 'processOnce').mockImplementation(async (...args) => {
      const ran = await original(...args);
      runs.push(ran);
      // The effect committed; the consumer dies before acking: JetStream redelivers.
      if (runs.length === 1) throw new ApiError(503, 'simulated crash before ack');
      return ran;
    });
    try {
      await publishEvent(nc, 'users.deleted', { userId: victim }, await usersEventsToken());
      await eventually(async () => runs.length >= 1);
      // An order that appears between the two deliveries shows whether the second one re-applied.
      const later = await seedOrder(victim, 'eu');
      await eventually(async () => runs.length >= 2, 15_000);
      expect(runs).toEqual([true, false]);
      expect(
        (await pg.query('SELECT user_id FROM orders WHERE id = $1', [later])).rows[0].user_id,
      ).toBe(victim);
    } finally {
      spy.mockRestore();
    }
  }, 30_000);
});

describe('availability', () => {
  const nothingWrittenFor = async (alice: Caller) => {
    expect(await ordersOf(alice.id)).toBe(0);
    expect(
      await count(`SELECT count(*)::int AS n FROM outbox_messages WHERE payload->>'userId' = $1`, [
        alice.id,
      ]),
    ).toBe(0);
  };

  it(`answers 503 within the users deadline (${DEADLINE_MS} ms) when users is slow, and writes nothing`, async () => {
    const alice = await customer();
    users.delayMs = 3000;
    try {
      const started = Date.now();
      const response = await place(alice);
      expect(response.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(response.body.error).toEqual({
        code: 'UNAVAILABLE',
        message: 'users service unavailable',
        requestId: expect.any(String),
      });
      await nothingWrittenFor(alice);
    } finally {
      users.delayMs = 0;
    }
  });

  it('answers 503 fast when users is down, and writes nothing', async () => {
    const alice = await customer();
    await users.stop();
    try {
      const started = Date.now();
      const response = await place(alice);
      expect(response.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(response.body.error.code).toBe('UNAVAILABLE');
      await nothingWrittenFor(alice);
    } finally {
      await users.start();
    }
    const client = app.get(UsersGrpcClient);
    await eventually(
      () =>
        client.getUser(alice.id).then(
          () => true,
          () => false,
        ),
      20_000,
    );
  }, 30_000);

  it('keeps placing orders while NATS is down and publishes every orders.created once it is back', async () => {
    const alice = await customer();
    await nats.stop();
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) ids.push((await placed(alice)).id);
    const unpublished = await count(
      `SELECT count(*)::int AS n FROM outbox_messages
        WHERE published_at IS NULL AND payload->>'orderId' = ANY($1)`,
      [ids],
    );
    expect(unpublished).toBe(3);

    nats = await startNatsServer({ port: natsPort, storeDir });
    await eventually(
      async () =>
        (await count(
          `SELECT count(*)::int AS n FROM outbox_messages
            WHERE published_at IS NOT NULL AND payload->>'orderId' = ANY($1)`,
          [ids],
        )) === 3,
      30_000,
    );
    const reader = await connect({ servers: nats.url });
    try {
      const jsm = await reader.jetstreamManager();
      const { state } = await jsm.streams.info('ORDERS');
      const published: string[] = [];
      for (let seq = state.first_seq; seq <= state.last_seq; seq += 1) {
        const message = await jsm.streams.getMessage('ORDERS', { seq });
        const orderId = (message.json() as { orderId: string }).orderId;
        if (message.subject === 'orders.created' && ids.includes(orderId)) {
          published.push(orderId);
          expect(message.header.get('Authorization')).toMatch(/^Bearer /);
          expect(claimsOf(message.header.get('Authorization').slice(7))).toMatchObject({
            client_id: 'orders',
            aud: 'events',
          });
        }
      }
      expect(published.sort()).toEqual([...ids].sort());
    } finally {
      await reader.close();
    }
  }, 60_000);
});
