// The suite's walking skeleton, black-box over real PostgreSQL, nats-server and gRPC:
// registering on auth publishes auth.identity.registered through auth's outbox; users consumes
// it from JetStream and creates the profile; orders reads that profile from users over gRPC.
import { protoDir, protoFile } from '@app/platform';
import * as grpc from '@grpc/grpc-js';
import * as loader from '@grpc/proto-loader';
import { UsersGrpcClient } from '../../apps/orders/src/users-client/users.grpc.client';
import { eventually, startSuite, type RunningSuite } from '../support/suite';

describe('walking skeleton: auth → NATS → users → gRPC ← orders', () => {
  let suite: RunningSuite;

  beforeAll(async () => {
    suite = await startSuite();
  }, 60_000);

  afterAll(() => suite?.stop());

  it('reports every service ready once its database and NATS answer, auth once its signing keys are fresh, and users and orders once they have replayed the revocations', async () => {
    const checks = {
      [suite.authUrl]: { database: 'up', nats: 'up', 'signing-keys': 'up' },
      [suite.usersUrl]: { database: 'up', nats: 'up', revocations: 'up' },
      [suite.ordersUrl]: { database: 'up', nats: 'up', revocations: 'up' },
    };
    for (const [url, expected] of Object.entries(checks)) {
      const ready = await eventually(async () => {
        const response = await fetch(`${url}/health/ready`);
        return response.status === 200 ? response : null;
      });
      expect(await ready.json()).toEqual({ status: 'ok', checks: expected });
    }
  });

  it('carries a registration from auth to users over JetStream and from users to orders over gRPC', async () => {
    const email = `skeleton-${Date.now()}@example.com`;
    const registered = await fetch(`${suite.authUrl}/auth/register`, {
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

    // orders' client-credentials token carries users:read, which lets it read any profile.
    const client = suite.orders.get(UsersGrpcClient);
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

  it('serves gRPC in users and orders over mutual TLS only, each to the one service that calls it', async () => {
    type Unary = (
      request: object,
      metadata: grpc.Metadata,
      options: grpc.CallOptions,
      callback: (error: grpc.ServiceError | null) => void,
    ) => void;
    const service = (file: string, name: string): grpc.ServiceClientConstructor => {
      const root = grpc.loadPackageDefinition(
        loader.loadSync(protoFile(file), { includeDirs: [protoDir()] }),
      );
      const [pkg, version] = file.split('/');
      return ((root[pkg] as grpc.GrpcObject)[version] as grpc.GrpcObject)[
        name
      ] as grpc.ServiceClientConstructor;
    };
    const call = (
      Service: grpc.ServiceClientConstructor,
      url: string,
      method: string,
      credentials: grpc.ChannelCredentials,
    ) => {
      const client = new Service(url, credentials);
      const unary = (client as unknown as Record<string, Unary>)[method].bind(client);
      return new Promise<number>((resolve) =>
        unary({}, new grpc.Metadata(), { deadline: Date.now() + 3000 }, (error) => {
          client.close();
          resolve(error?.code ?? grpc.status.OK);
        }),
      );
    };
    const tlsAs = (service: string) => {
      const { ca, privateKey, certificate } = suite.grpcClientTls(service);
      return grpc.credentials.createSsl(ca, privateKey, certificate);
    };
    for (const [Service, url, method, caller] of [
      [service('users/v1/users.proto', 'UsersService'), suite.usersGrpcUrl, 'GetUser', 'orders'],
      [
        service('orders/v1/orders.proto', 'OrdersService'),
        suite.ordersGrpcUrl,
        'CountOpenOrders',
        'users',
      ],
    ] as const) {
      // With the certificate of the service that calls it, the call reaches the guard, which wants a token.
      expect({ url, code: await call(Service, url, method, tlsAs(caller)) }).toEqual({
        url,
        code: grpc.status.UNAUTHENTICATED,
      });
      // Another certificate of the same CA (auth's, say) is refused before the guard.
      expect({ url, code: await call(Service, url, method, tlsAs('auth')) }).toEqual({
        url,
        code: grpc.status.PERMISSION_DENIED,
      });
      expect({
        url,
        code: await call(Service, url, method, grpc.credentials.createInsecure()),
      }).toEqual({
        url,
        code: grpc.status.UNAVAILABLE,
      });
    }
  });

  it('answers NOT_FOUND from users over gRPC as null in orders, not as an error', async () => {
    await expect(
      suite.orders.get(UsersGrpcClient).getUser('00000000-0000-4000-8000-000000000000'),
    ).resolves.toBeNull();
  });

  it.each([
    ['auth', 'authUrl'],
    ['users', 'usersUrl'],
    ['orders', 'ordersUrl'],
  ] as const)(
    'serves %s metrics only to a scraper with the METRICS_TOKEN',
    async (service, url) => {
      const scrape = (authorization?: string) =>
        fetch(`${suite[url]}/metrics`, { headers: authorization ? { authorization } : {} });
      for (const refused of [await scrape(), await scrape(`Bearer ${'0'.repeat(64)}`)]) {
        expect(refused.status).toBe(401);
        expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
      }
      const served = await scrape(`Bearer ${suite.metricsToken}`);
      expect(served.status).toBe(200);
      expect(await served.text()).toContain(`service="${service}"`);
    },
  );

  it.each(['usersUrl', 'ordersUrl'] as const)(
    'exports when its gRPC certificate expires (%s), which it reads at start only',
    async (url) => {
      const metrics = await (
        await fetch(`${suite[url]}/metrics`, {
          headers: { authorization: `Bearer ${suite.metricsToken}` },
        })
      ).text();
      const line = /^grpc_tls_certificate_expiry_timestamp_seconds\{[^}]*\} (\d+)$/m.exec(metrics);
      // The suite's certificates are valid for one day from their issue, a moment ago.
      const inOneDay = Date.now() / 1000 + 24 * 3600;
      expect(Math.abs(Number(line?.[1]) - inOneDay)).toBeLessThan(600);
    },
  );

  it('sends security headers on every response of every service, and no X-Powered-By', async () => {
    for (const url of [
      `${suite.authUrl}/health/live`,
      `${suite.usersUrl}/nope`,
      `${suite.ordersUrl}/catalog`,
    ]) {
      const response = await fetch(url);
      expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(response.headers.get('strict-transport-security')).toBe(
        'max-age=31536000; includeSubDomains',
      );
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('x-powered-by')).toBeNull();
      expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('refuses a body over the size limit with 413 and the JSON error shape, before any handler', async () => {
    const response = await fetch(`${suite.authUrl}/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        email: 'big@example.com',
        password: 'x'.repeat(100_000),
        displayName: 'Big',
      }),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({
      error: {
        code: 'PAYLOAD_TOO_LARGE',
        message: expect.any(String),
        requestId: expect.any(String),
      },
    });
  });

  it('allows no cross-origin caller when no origin is configured', async () => {
    const response = await fetch(`${suite.ordersUrl}/catalog`, {
      headers: { origin: 'https://evil.example' },
    });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('serves the public catalog from orders', async () => {
    const response = await fetch(`${suite.ordersUrl}/catalog`);
    expect(response.status).toBe(200);
    const catalog = (await response.json()) as { sku: string; price: number }[];
    expect(catalog.length).toBeGreaterThan(0);
    expect(catalog[0]).toEqual(
      expect.objectContaining({ sku: expect.any(String), price: expect.any(Number) }),
    );
  });
});
