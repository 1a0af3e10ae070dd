// Boots the whole suite in one process for cross-service e2e specs: real auth, users and orders
// apps with their own databases (migrated), one private nats-server, free ports, real gRPC with
// mutual TLS between users and orders (certificates of a throwaway CA), as in production.
import { loadGrpcTls, runMigrations, type GrpcTls } from '@app/platform';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomBytes } from 'node:crypto';
import { createAuthApp } from '../../apps/auth/src/auth.app';
import { loadAuthConfig } from '../../apps/auth/src/auth.config';
import { authDataSource } from '../../apps/auth/src/database/auth-data-source';
import { ordersDataSource } from '../../apps/orders/src/database/orders-data-source';
import { createOrdersApp } from '../../apps/orders/src/orders.app';
import { loadOrdersConfig } from '../../apps/orders/src/orders.config';
import { usersDataSource } from '../../apps/users/src/database/users-data-source';
import { createUsersApp } from '../../apps/users/src/users.app';
import { loadUsersConfig } from '../../apps/users/src/users.config';
import { freePort } from '../../scripts/lib/infra';
import { createTestDatabase, startTestNats } from './test-infra';
import { createTestPki } from './test-pki';
export { eventually } from './eventually';

export interface RunningSuite {
  authUrl: string;
  usersUrl: string;
  ordersUrl: string;
  natsUrl: string;
  auth: NestFastifyApplication;
  users: NestFastifyApplication;
  orders: NestFastifyApplication;
  admin: { email: string; password: string };
  /** Every service's METRICS_TOKEN (GET /metrics asks for it). */
  metricsToken: string;
  /** users' and orders' gRPC servers (`localhost:<port>`), mutual TLS only. */
  usersGrpcUrl: string;
  ordersGrpcUrl: string;
  /** A certificate of the services' CA naming `service`, with that CA, for a gRPC client. */
  grpcClientTls(service: string): GrpcTls;
  stop(): Promise<void>;
}

export async function startSuite(): Promise<RunningSuite> {
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
  };
  try {
    const nats = await startTestNats();
    cleanups.push(() => nats.stop());
    const [authDb, usersDb, ordersDb] = await Promise.all([
      createTestDatabase('suite_auth'),
      createTestDatabase('suite_users'),
      createTestDatabase('suite_orders'),
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
    const pki = createTestPki('suite-grpc-tls');
    cleanups.push(async () => pki.remove());
    const ca = pki.ca('suite');
    const grpcTls = (service: string) => {
      const { certFile, keyFile } = ca.issue(service, `DNS:localhost,DNS:${service}`);
      return {
        GRPC_TLS_CERT_FILE: certFile,
        GRPC_TLS_KEY_FILE: keyFile,
        GRPC_TLS_CA_FILE: ca.caFile,
      };
    };
    const metricsToken = randomBytes(32).toString('hex');
    const common = {
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      NATS_URL: nats.url,
      METRICS_TOKEN: metricsToken,
    };
    const issuer = `http://127.0.0.1:${authPort}`;
    const usersSecret = randomBytes(32).toString('base64url');
    const ordersSecret = randomBytes(32).toString('base64url');
    const admin = { email: 'admin@suite.test', password: randomBytes(18).toString('base64url') };

    const auth = await createAuthApp(
      loadAuthConfig({
        ...common,
        PORT: String(authPort),
        DATABASE_URL: authDb.url,
        AUTH_ISSUER: issuer,
        USERS_CLIENT_SECRET: usersSecret,
        ORDERS_CLIENT_SECRET: ordersSecret,
        ADMIN_EMAIL: admin.email,
        ADMIN_PASSWORD: admin.password,
      }),
    );
    const users = await createUsersApp(
      loadUsersConfig({
        ...common,
        PORT: String(usersPort),
        GRPC_PORT: String(usersGrpcPort),
        DATABASE_URL: usersDb.url,
        AUTH_ISSUER: issuer,
        ORDERS_GRPC_URL: `localhost:${ordersGrpcPort}`,
        CLIENT_SECRET: usersSecret,
        ...grpcTls('users'),
      }),
    );
    const orders = await createOrdersApp(
      loadOrdersConfig({
        ...common,
        PORT: String(ordersPort),
        GRPC_PORT: String(ordersGrpcPort),
        DATABASE_URL: ordersDb.url,
        AUTH_ISSUER: issuer,
        USERS_GRPC_URL: `localhost:${usersGrpcPort}`,
        CLIENT_SECRET: ordersSecret,
        ...grpcTls('orders'),
      }),
    );
    for (const [app, port] of [
      [auth, authPort],
      [users, usersPort],
      [orders, ordersPort],
    ] as const) {
      cleanups.unshift(() => app.close());
      await app.startAllMicroservices();
      await app.listen({ port, host: '127.0.0.1' });
    }
    return {
      usersGrpcUrl: `localhost:${usersGrpcPort}`,
      ordersGrpcUrl: `localhost:${ordersGrpcPort}`,
      grpcClientTls: (service: string) =>
        loadGrpcTls({ NODE_ENV: 'test', GRPC_PLAINTEXT: false, ...grpcTls(service) }) as GrpcTls,
      authUrl: issuer,
      usersUrl: `http://127.0.0.1:${usersPort}`,
      ordersUrl: `http://127.0.0.1:${ordersPort}`,
      natsUrl: nats.url,
      auth,
      users,
      orders,
      admin,
      metricsToken,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
