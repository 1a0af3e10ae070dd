// Boots the real users app (Fastify + gRPC + JetStream consumer) against a per-spec PostgreSQL
// database and nats-server, with a local token issuer (JWKS + /oauth/token) and a fake orders
// gRPC server that records the token it receives.
import 'reflect-metadata';
import { protoDir, protoFile, runMigrations } from '@app/platform';
import {
  credentials,
  loadPackageDefinition,
  Metadata,
  Server,
  ServerCredentials,
  status,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { connect, headers as natsHeaders, nanos, type NatsConnection } from 'nats';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { freePort } from '../../../../scripts/lib/infra';
import { T0, TestIssuer } from '../../../../test/security/support/test-issuer';
import { createTestDatabase, startTestNats } from '../../../../test/support/test-infra';
import { usersDataSource } from '../../src/database/users-data-source';
import { createUsersApp } from '../../src/users.app';
import { loadUsersConfig } from '../../src/users.config';
export { eventually } from '../../../../test/support/eventually';

/** The AUTH stream's de-duplication window in these specs: short, so a test can redeliver an id. */
export const TEST_DUPLICATE_WINDOW_MS = 300;
export const ORDERS_DEADLINE_MS = 500;

export interface OrdersCall {
  userId: string;
  authorization: string[];
}

/** orders.v1.OrdersService/CountOpenOrders as a test double. */
export class FakeOrders {
  readonly calls: OrdersCall[] = [];
  readonly openOrders = new Map<string, number>();
  delayMs = 0;
  private server: Server | null = null;

  constructor(readonly port: number) {}

  async start(): Promise<void> {
    const definition = loadSync(protoFile('orders/v1/orders.proto'), {
      includeDirs: [protoDir()],
      defaults: true,
    });
    const pkg = loadPackageDefinition(definition) as unknown as {
      orders: { v1: { OrdersService: { service: never } } };
    };
    const server = new Server();
    server.addService(pkg.orders.v1.OrdersService.service, {
      CountOpenOrders: (
        call: { request: { userId: string }; metadata: Metadata },
        callback: (error: Partial<ServiceError> | null, value?: { count: number }) => void,
      ) => {
        const userId = call.request.userId;
        this.calls.push({ userId, authorization: call.metadata.get('authorization').map(String) });
        setTimeout(() => callback(null, { count: this.openOrders.get(userId) ?? 0 }), this.delayMs);
      },
    });
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${this.port}`, ServerCredentials.createInsecure(), (error) =>
        error ? reject(error) : resolve(),
      ),
    );
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    server?.forceShutdown();
  }

  callsFor(userId: string): OrdersCall[] {
    return this.calls.filter((call) => call.userId === userId);
  }
}

export interface UsersHarness {
  app: NestFastifyApplication;
  baseUrl: string;
  grpcUrl: string;
  issuer: TestIssuer;
  orders: FakeOrders;
  pg: Client;
  /** The service's database, for a test's own connections. */
  databaseUrl: string;
  nc: NatsConnection;
  close(): Promise<void>;
}

export async function startUsers(prefix: string): Promise<UsersHarness> {
  const issuer = await TestIssuer.create();
  await issuer.listen();
  const [database, nats] = await Promise.all([createTestDatabase(prefix), startTestNats()]);
  await runMigrations(usersDataSource(database.url));
  const pg = new Client({ connectionString: database.url });
  await pg.connect();
  const nc = await connect({ servers: nats.url });
  // auth owns the AUTH stream; here the spec stands in for auth.
  await (
    await nc.jetstreamManager()
  ).streams.add({
    name: 'AUTH',
    subjects: ['auth.>'],
    duplicate_window: nanos(TEST_DUPLICATE_WINDOW_MS),
  });
  const [port, grpcPort, ordersPort] = await Promise.all([freePort(), freePort(), freePort()]);
  const orders = new FakeOrders(ordersPort);
  await orders.start();
  const app = await createUsersApp(
    loadUsersConfig({
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      PORT: String(port),
      GRPC_PORT: String(grpcPort),
      DATABASE_URL: database.url,
      NATS_URL: nats.url,
      AUTH_ISSUER: issuer.url,
      ORDERS_GRPC_URL: `127.0.0.1:${ordersPort}`,
      ORDERS_GRPC_DEADLINE_MS: String(ORDERS_DEADLINE_MS),
      CLIENT_SECRET: 'secret-users',
    }),
  );
  await app.startAllMicroservices();
  await app.listen({ port, host: '127.0.0.1' });
  return {
    app,
    baseUrl: `http://127.0.0.1:${port}`,
    grpcUrl: `127.0.0.1:${grpcPort}`,
    issuer,
    orders,
    pg,
    databaseUrl: database.url,
    nc,
    async close() {
      await app.close();
      await orders.stop();
      await nc.close();
      await pg.end();
      await Promise.all([issuer.close(), nats.stop(), database.drop()]);
    },
  };
}

export interface SeededProfile {
  id: string;
  email: string;
  displayName: string;
  region: string;
  roles: string[];
}

/** Inserts profiles directly (as the registration consumer would), each with a fresh id. */
export async function seedProfiles(
  pg: Client,
  profiles: Partial<SeededProfile>[],
): Promise<SeededProfile[]> {
  const rows = profiles.map((p) => {
    const id = p.id ?? randomUUID();
    return {
      id,
      email: p.email ?? `${id}@example.com`,
      displayName: p.displayName ?? `user ${id.slice(0, 8)}`,
      region: p.region ?? 'eu',
      roles: p.roles ?? ['customer'],
    };
  });
  for (const row of rows) {
    await pg.query(
      'INSERT INTO user_profiles (id, email, display_name, region, roles) VALUES ($1, $2, $3, $4, $5)',
      [row.id, row.email, row.displayName, row.region, row.roles],
    );
  }
  return rows;
}

export async function seedProfile(pg: Client, profile: Partial<SeededProfile> = {}) {
  return (await seedProfiles(pg, [profile]))[0];
}

/** A user's own login token (as auth issues it: aud users+orders, users:read users:write). */
export function userToken(
  issuer: TestIssuer,
  user: { id: string; roles?: string[]; region?: string | null },
  overrides: Record<string, unknown> = {},
) {
  return issuer.userToken({
    sub: user.id,
    roles: user.roles ?? ['customer'],
    region: user.region === null ? undefined : (user.region ?? 'eu'),
    scope: 'users:read users:write orders:read orders:write',
    auth_time: Math.floor(Date.now() / 1000) - 5,
    ...overrides,
  });
}

/**
 * What orders gets from token exchange for a user (RFC 8693): aud users, `act`, and of the
 * user's scopes the one orders' client is allowed for users (auth's admin-keys e2e shows it).
 */
export function delegatedToken(
  issuer: TestIssuer,
  user: { id: string; roles?: string[]; region?: string },
  overrides: Record<string, unknown> = {},
) {
  return issuer.userToken({
    sub: user.id,
    roles: user.roles ?? ['customer'],
    region: user.region ?? 'eu',
    aud: 'users',
    client_id: 'orders',
    act: { sub: 'orders' },
    scope: 'users:read',
    auth_time: Math.floor(Date.now() / 1000) - 5,
    ...overrides,
  });
}

export interface HttpResult {
  status: number;
  headers: Headers;
  body: Record<string, unknown> & {
    error: { code: string; message: string; requestId: string };
  };
  elapsedMs: number;
}

export function httpClient(baseUrl: string) {
  return async (
    path: string,
    init: { method?: string; token?: string; body?: unknown } = {},
  ): Promise<HttpResult> => {
    const headers = new Headers();
    if (init.token) headers.set('authorization', `Bearer ${init.token}`);
    if (init.body !== undefined) headers.set('content-type', 'application/json');
    const started = Date.now();
    const response = await fetch(`${baseUrl}${path}`, {
      method: init.method ?? 'GET',
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text ? JSON.parse(text) : {},
      elapsedMs: Date.now() - started,
    };
  };
}

type GetUser = (
  request: { id: string },
  metadata: Metadata,
  callback: (error: ServiceError | null, value?: Record<string, unknown>) => void,
) => void;

/** A raw grpc-js call of users.v1.UsersService/GetUser with the given bearer token. */
export function grpcGetUser(grpcUrl: string, token: string | undefined, id: string) {
  const definition = loadSync(protoFile('users/v1/users.proto'), { includeDirs: [protoDir()] });
  const pkg = loadPackageDefinition(definition) as unknown as {
    users: {
      v1: {
        UsersService: new (url: string, creds: unknown) => { GetUser: GetUser; close(): void };
      };
    };
  };
  const client = new pkg.users.v1.UsersService(grpcUrl, credentials.createInsecure());
  const metadata = new Metadata();
  if (token) metadata.set('authorization', `Bearer ${token}`);
  return new Promise<{ code: number; value?: Record<string, unknown> }>((resolve) =>
    client.GetUser({ id }, metadata, (error, value) => {
      client.close();
      resolve({ code: error?.code ?? status.OK, value });
    }),
  );
}

/** Publishes on JetStream as a publisher would: optional bearer token, a Nats-Msg-Id. */
export async function publish(
  nc: NatsConnection,
  subject: string,
  payload: object,
  token: string | undefined,
  messageId: string = randomUUID(),
  extraHeaders: Record<string, string> = {},
) {
  const headers = natsHeaders();
  if (token) headers.set('Authorization', `Bearer ${token}`);
  for (const [name, value] of Object.entries(extraHeaders)) headers.set(name, value);
  const ack = await nc
    .jetstream()
    .publish(subject, Buffer.from(JSON.stringify(payload)), { msgID: messageId, headers });
  return { messageId, duplicate: ack.duplicate, seq: ack.seq };
}

/** auth's event-publishing token. */
export const authEventsToken = (issuer: TestIssuer) =>
  issuer.serviceToken('auth', 'events', 'events:publish');

export const decodeJwt = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<string, unknown>;

export { T0 };
