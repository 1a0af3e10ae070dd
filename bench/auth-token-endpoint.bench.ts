/**
 * client_credentials tokens per second: auth's /oauth/token against node-oidc-provider
 * issuing the same JWT access tokens (ES256, typ at+jwt, 5 min, one audience, client_secret_basic),
 * side by side in one run on this machine.
 *
 * Fairness: both servers live in this process with the same Node flags, and each runs alone
 * while it is measured. The load generator is a child process (it does not share the servers'
 * event loop) speaking HTTP/1.1 over keep-alive sockets with a fixed concurrency; it parses
 * only the status line and Content-Length, so it can drive ~25k requests/s and is never what
 * limits either server. Both are warmed up first, then measured in alternating rounds
 * (auth, oidc, auth, oidc, …) so drift on a noisy machine hits both alike. Besides tokens/s the
 * bench prints the servers' CPU time per token (this process's user+system time over the
 * round), which does not depend on how busy the other core is. One token of each is decoded
 * and compared, so a change that made either side issue a different token would show.
 */
import 'reflect-metadata';
import { fork } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { runMigrations } from '@app/platform';
import { createAuthApp } from '../apps/auth/src/auth.app';
import { loadAuthConfig } from '../apps/auth/src/auth.config';
import { authDataSource } from '../apps/auth/src/database/auth-data-source';
import infra from '../scripts/lib/infra';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const WARMUP_MS = Math.min(DURATION_MS, 2000);

interface Target {
  url: string;
  body: string;
  authorization: string;
}

interface Result {
  tokens: number;
  failed: number;
  seconds: number;
  cpuMicros: number;
}

/** Child process: keeps CONCURRENCY requests in flight for durationMs, counts good tokens. */
async function loadGenerator(): Promise<void> {
  const { url, body, authorization, durationMs, concurrency } = JSON.parse(
    process.env.BENCH_TARGET!,
  ) as Target & { durationMs: number; concurrency: number };
  const target = new URL(url);
  const request = Buffer.from(
    `POST ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\n` +
      'Content-Type: application/x-www-form-urlencoded\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\nAuthorization: ${authorization}\r\n` +
      `Connection: keep-alive\r\n\r\n${body}`,
  );
  let tokens = 0;
  let failed = 0;
  const deadline = Date.now() + durationMs;
  const connection = () =>
    new Promise<void>((resolve) => {
      const socket = connect(Number(target.port), target.hostname);
      socket.setNoDelay(true);
      let pending: Buffer = Buffer.alloc(0);
      const next = () => (Date.now() < deadline ? socket.write(request) : socket.end());
      socket.on('connect', next);
      socket.on('close', () => resolve());
      socket.on('error', () => {
        failed++;
        resolve();
      });
      socket.on('data', (chunk: Buffer) => {
        pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
        for (;;) {
          const headEnd = pending.indexOf('\r\n\r\n');
          if (headEnd < 0) return;
          const head = pending.subarray(0, headEnd).toString('latin1');
          const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
          if (pending.length < headEnd + 4 + length) return;
          const text = pending.subarray(headEnd + 4, headEnd + 4 + length).toString();
          if (head.startsWith('HTTP/1.1 200') && text.includes('"access_token"')) tokens++;
          else failed++;
          pending = pending.subarray(headEnd + 4 + length);
          next();
        }
      });
    });
  await Promise.all(Array.from({ length: concurrency }, connection));
  process.send!({ tokens, failed }, () => process.exit(0));
}

async function measure(target: Target, durationMs: number): Promise<Result> {
  const child = fork(__filename, [], {
    env: {
      ...process.env,
      BENCH_CHILD: '1',
      BENCH_TARGET: JSON.stringify({ ...target, durationMs, concurrency: CONCURRENCY }),
    },
  });
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  const counts = await new Promise<{ tokens: number; failed: number }>((resolve, reject) => {
    child.once('message', (message) => resolve(message as { tokens: number; failed: number }));
    child.once('error', reject);
  });
  const used = process.cpuUsage(cpu);
  return {
    ...counts,
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
    cpuMicros: used.user + used.system,
  };
}

async function fetchToken(target: Target): Promise<string> {
  const response = await fetch(target.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: target.authorization,
    },
    body: target.body,
  });
  const body = (await response.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`no token from ${target.url}: ${JSON.stringify(body)}`);
  return body.access_token;
}

/** The parts of a token that make two servers' work comparable. */
function shape(token: string) {
  const [header, payload] = token
    .split('.')
    .slice(0, 2)
    .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
  return {
    alg: header.alg,
    typ: header.typ,
    lifetime: payload.exp - payload.iat,
    aud: payload.aud,
    scope: payload.scope,
    claims: Object.keys(payload).sort().join(','),
  };
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
    const ourShape = shape(await fetchToken(authTarget));
    const theirShape = shape(await fetchToken(oidcTarget));
    console.log(`  auth token:          ${JSON.stringify(ourShape)}`);
    console.log(`  oidc-provider token: ${JSON.stringify(theirShape)}`);
    if (ourShape.alg !== 'ES256' || theirShape.alg !== 'ES256') throw new Error('not ES256');
    if (ourShape.typ !== 'at+jwt' || theirShape.typ !== 'at+jwt') throw new Error('not at+jwt');

    await measure(authTarget, WARMUP_MS);
    await measure(oidcTarget, WARMUP_MS);
    const total = (results: Result[]) =>
      results.reduce(
        (sum, r) => ({
          tokens: sum.tokens + r.tokens,
          failed: sum.failed + r.failed,
          seconds: sum.seconds + r.seconds,
          cpuMicros: sum.cpuMicros + r.cpuMicros,
        }),
        { tokens: 0, failed: 0, seconds: 0, cpuMicros: 0 },
      );
    const ours: Result[] = [];
    const theirs: Result[] = [];
    const line = (name: string, r: Result) =>
      `  ${name.padEnd(26)} ${(r.tokens / r.seconds).toFixed(0).padStart(7)} tokens/s  ` +
      `${(r.cpuMicros / Math.max(1, r.tokens)).toFixed(0).padStart(5)} µs CPU/token  (${r.failed} failed)`;
    console.log(
      `client_credentials, ES256 JWT access tokens, ${CONCURRENCY} connections, ` +
        `${ROUNDS} alternating rounds of ${DURATION_MS / 1000} s each`,
    );
    for (let round = 1; round <= ROUNDS; round++) {
      ours.push(await measure(authTarget, DURATION_MS));
      theirs.push(await measure(oidcTarget, DURATION_MS));
      console.log(line(`round ${round} auth`, ours[round - 1]));
      console.log(line(`round ${round} oidc-provider`, theirs[round - 1]));
    }
    const a = total(ours);
    const b = total(theirs);
    console.log(line('auth /oauth/token', a));
    console.log(line('node-oidc-provider /token', b));
    const ratio = a.tokens / a.seconds / (b.tokens / b.seconds);
    const cpuRatio = b.cpuMicros / b.tokens / (a.cpuMicros / a.tokens);
    console.log(
      `  ratio auth / oidc-provider ${ratio.toFixed(2)}x tokens/s, ${cpuRatio.toFixed(2)}x ` +
        'tokens per CPU second (target >= 2x)',
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
