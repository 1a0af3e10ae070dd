/**
 * client_credentials tokens per second: auth's /oauth/token against node-oidc-provider
 * issuing the same JWT access tokens (ES256, typ at+jwt, 5 min, one audience, client_secret_basic),
 * side by side in one run on this machine. Each server runs alone while it is measured; the
 * load generator (keep-alive, fixed concurrency) lives in a child process, so it does not
 * share the server's event loop.
 */
import 'reflect-metadata';
import { fork } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { Agent, createServer, request as httpRequest } from 'node:http';
import { runMigrations } from '@app/platform';
import { createAuthApp } from '../apps/auth/src/auth.app';
import { loadAuthConfig } from '../apps/auth/src/auth.config';
import { authDataSource } from '../apps/auth/src/database/auth-data-source';
import infra from '../scripts/lib/infra';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);

interface Target {
  url: string;
  body: string;
  authorization: string;
}

/** Child process: hammers one target over keep-alive connections, reports requests per second. */
async function loadGenerator(): Promise<void> {
  const { url, body, authorization, durationMs, concurrency } = JSON.parse(
    process.env.BENCH_TARGET!,
  );
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const target = new URL(url);
  const post = () =>
    new Promise<boolean>((resolve, reject) => {
      const req = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'content-length': Buffer.byteLength(body),
            authorization,
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk) => (text += chunk));
          res.on('end', () => resolve(res.statusCode === 200 && text.includes('access_token')));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const deadline = Date.now() + durationMs;
  let ok = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) {
        if (await post()) ok++;
        else failed++;
      }
    }),
  );
  agent.destroy();
  process.send!({ perSecond: (ok * 1000) / durationMs, failed }, () => process.exit(0));
}

function measure(target: Target): Promise<{ perSecond: number; failed: number }> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, [], {
      env: {
        ...process.env,
        BENCH_CHILD: '1',
        BENCH_TARGET: JSON.stringify({
          ...target,
          durationMs: DURATION_MS,
          concurrency: CONCURRENCY,
        }),
      },
    });
    child.once('message', (message) => resolve(message as { perSecond: number; failed: number }));
    child.once('error', reject);
  });
}

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

async function startOidcProvider(secret: string): Promise<{ url: string; close(): Promise<void> }> {
  // oidc-provider ships no types; only its constructor and callback() are used here.
  const { default: Provider } = (await import('oidc-provider' as string)) as {
    default: new (
      issuer: string,
      configuration: unknown,
    ) => { callback(): Parameters<typeof createServer>[1] };
  };
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const port = await infra.freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'users',
        client_secret: secret,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_basic',
        // Only an ES256 key is configured (the same algorithm as auth).
        id_token_signed_response_alg: 'ES256',
        scope: 'orders:read',
      },
    ],
    scopes: ['orders:read'],
    jwks: {
      keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'bench', alg: 'ES256', use: 'sig' }],
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => 'urn:service:orders',
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'orders:read',
          audience: 'orders',
          accessTokenTTL: 300,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        }),
      },
    },
  });
  const server = createServer(provider.callback());
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `${issuer}/token`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function main(): Promise<void> {
  const postgres = await infra.startEmbeddedPostgres();
  const nats = await infra.startNatsServer();
  const secret = randomBytes(32).toString('base64url');
  const databaseUrl = infra.withDatabase(postgres.url, 'postgres');
  const config = loadAuthConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    NATS_URL: nats.url,
    KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    ADMIN_PASSWORD: randomBytes(18).toString('base64url'),
    USERS_CLIENT_SECRET: secret,
    SIGNING_ALG: 'ES256',
  });
  await runMigrations(authDataSource(databaseUrl));
  const app = await createAuthApp(config, { quiet: !process.env.BENCH_VERBOSE });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const authPort = (app.getHttpServer().address() as { port: number }).port;
  const oidc = await startOidcProvider(secret);
  try {
    const authTarget = {
      url: `http://127.0.0.1:${authPort}/oauth/token`,
      body: 'grant_type=client_credentials&audience=orders&scope=orders%3Aread',
      authorization: basic('users', secret),
    };
    const oidcTarget = {
      url: oidc.url,
      body: 'grant_type=client_credentials&resource=urn%3Aservice%3Aorders&scope=orders%3Aread',
      authorization: basic('users', secret),
    };
    // Warm both up (JIT, connection pools), then measure each alone.
    await measure({ ...authTarget });
    await measure({ ...oidcTarget });
    const ours = await measure(authTarget);
    const theirs = await measure(oidcTarget);
    console.log(
      `client_credentials, ES256 JWT access tokens, ${CONCURRENCY} connections, ${DURATION_MS / 1000} s each`,
    );
    console.log(
      `  auth /oauth/token          ${ours.perSecond.toFixed(0).padStart(7)} tokens/s  (${ours.failed} failed)`,
    );
    console.log(
      `  node-oidc-provider /token  ${theirs.perSecond.toFixed(0).padStart(7)} tokens/s  (${theirs.failed} failed)`,
    );
    console.log(
      `  ratio auth / oidc-provider ${(ours.perSecond / theirs.perSecond).toFixed(2)}x (target >= 2x)`,
    );
  } finally {
    await oidc.close();
    await app.close();
    await nats.stop();
    await postgres.stop();
  }
}

if (process.env.BENCH_CHILD) void loadGenerator();
else
  void main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
