/**
 * client_credentials tokens per second: auth's /oauth/token against node-oidc-provider
 * issuing the same JWT access tokens (ES256, typ at+jwt, 5 min, one audience, client_secret_basic),
 * side by side in one run on this machine.
 *
 * Fairness: each server runs in a Node process of its own with the same flags, so neither pays
 * for the other's AsyncLocalStorage hooks, heap or JIT state. This process is the load
 * generator: HTTP/1.1 over keep-alive sockets with a fixed concurrency, parsing only the status
 * line and Content-Length, so it is never what limits a server. The servers are measured in
 * short alternating windows (auth, oidc, auth, oidc, …): this machine's speed drifts by tens of
 * percent within seconds, and a drift then hits both sides alike. Each window also reads the
 * server's own CPU time (user + system, all its threads), which does not depend on how busy the
 * other core is. The bench prints the ratio of the totals and the median of the per-window-pair
 * ratios. One token of each is decoded and compared, so a change that made either side issue a
 * different token would show.
 */
import 'reflect-metadata';
import { fork, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { runMigrations } from '@app/platform';
import { createAuthApp } from '../apps/auth/src/auth.app';
import { loadAuthConfig } from '../apps/auth/src/auth.config';
import { authDataSource } from '../apps/auth/src/database/auth-data-source';
import infra from '../scripts/lib/infra';

const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const WARMUP_MS = 3000;

interface Target {
  url: string;
  body: string;
  authorization: string;
}

interface Window {
  tokens: number;
  failed: number;
  seconds: number;
  cpuMicros: number;
}

/** Messages between this process and a server process. */
type ServerMessage = { ready: Target } | { cpu: NodeJS.CpuUsage };

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

/** Server process: answers `cpu` with its CPU time so far and exits on `stop`. */
function serve(start: () => Promise<{ target: Target; close(): Promise<void> }>): void {
  void start().then(
    ({ target, close }) => {
      process.on('message', (message) => {
        if (message === 'cpu') process.send!({ cpu: process.cpuUsage() } satisfies ServerMessage);
        if (message === 'stop') void close().then(() => process.exit(0));
      });
      process.send!({ ready: target } satisfies ServerMessage);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}

async function startAuth(): Promise<{ target: Target; close(): Promise<void> }> {
  const { databaseUrl, natsUrl, secret } = JSON.parse(process.env.BENCH_AUTH!) as {
    databaseUrl: string;
    natsUrl: string;
    secret: string;
  };
  const config = loadAuthConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    NATS_URL: natsUrl,
    KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    ADMIN_PASSWORD: randomBytes(18).toString('base64url'),
    USERS_CLIENT_SECRET: secret,
    SIGNING_ALG: 'ES256',
  });
  await runMigrations(authDataSource(databaseUrl));
  const app = await createAuthApp(config, { quiet: !process.env.BENCH_VERBOSE });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.getHttpServer().address() as { port: number }).port;
  return {
    target: {
      url: `http://127.0.0.1:${port}/oauth/token`,
      body: 'grant_type=client_credentials&audience=orders&scope=orders%3Aread',
      authorization: basic('users', secret),
    },
    close: () => app.close(),
  };
}

async function startOidcProvider(): Promise<{ target: Target; close(): Promise<void> }> {
  const secret = process.env.BENCH_SECRET!;
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
    target: {
      url: `${issuer}/token`,
      body: 'grant_type=client_credentials&resource=urn%3Aservice%3Aorders&scope=orders%3Aread',
      authorization: basic('users', secret),
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A server process and the target it serves. */
class ServerProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly target: Target,
  ) {}

  static start(role: 'auth' | 'oidc', env: Record<string, string>): Promise<ServerProcess> {
    const child = fork(__filename, [], { env: { ...process.env, ...env, BENCH_ROLE: role } });
    return new Promise((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`${role} server exited with ${code}`)));
      child.once('message', (message: ServerMessage) => {
        if ('ready' in message) resolve(new ServerProcess(child, message.ready));
      });
    });
  }

  cpuMicros(): Promise<number> {
    return new Promise((resolve) => {
      this.child.once('message', (message: ServerMessage) => {
        if ('cpu' in message) resolve(message.cpu.user + message.cpu.system);
      });
      this.child.send('cpu');
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.child.removeAllListeners('exit');
      this.child.once('exit', () => resolve());
      this.child.send('stop');
    });
  }
}

/** Keeps CONCURRENCY requests in flight for durationMs; counts 200 responses with a token. */
async function load(
  target: Target,
  durationMs: number,
): Promise<{ tokens: number; failed: number }> {
  const url = new URL(target.url);
  const request = Buffer.from(
    `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\n` +
      'Content-Type: application/x-www-form-urlencoded\r\n' +
      `Content-Length: ${Buffer.byteLength(target.body)}\r\nAuthorization: ${target.authorization}\r\n` +
      `Connection: keep-alive\r\n\r\n${target.body}`,
  );
  let tokens = 0;
  let failed = 0;
  const deadline = Date.now() + durationMs;
  const connection = () =>
    new Promise<void>((resolve) => {
      const socket = connect(Number(url.port), url.hostname);
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
  await Promise.all(Array.from({ length: CONCURRENCY }, connection));
  return { tokens, failed };
}

async function measure(server: ServerProcess, durationMs: number): Promise<Window> {
  const cpuBefore = await server.cpuMicros();
  const started = process.hrtime.bigint();
  const counts = await load(server.target, durationMs);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { ...counts, seconds, cpuMicros: (await server.cpuMicros()) - cpuBefore };
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

const total = (windows: Window[]) =>
  windows.reduce(
    (sum, w) => ({
      tokens: sum.tokens + w.tokens,
      failed: sum.failed + w.failed,
      seconds: sum.seconds + w.seconds,
      cpuMicros: sum.cpuMicros + w.cpuMicros,
    }),
    { tokens: 0, failed: 0, seconds: 0, cpuMicros: 0 },
  );
const rate = (w: Window) => w.tokens / w.seconds;
const cpuPerToken = (w: Window) => w.cpuMicros / Math.max(1, w.tokens);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];
const line = (name: string, w: Window) =>
  `  ${name.padEnd(28)} ${rate(w).toFixed(0).padStart(7)} tokens/s  ` +
  `${cpuPerToken(w).toFixed(0).padStart(5)} µs CPU/token  (${w.failed} failed)`;

async function main(): Promise<void> {
  const postgres = await infra.startEmbeddedPostgres();
  const nats = await infra.startNatsServer();
  const secret = randomBytes(32).toString('base64url');
  const servers: ServerProcess[] = [];
  try {
    const auth = await ServerProcess.start('auth', {
      BENCH_AUTH: JSON.stringify({
        databaseUrl: infra.withDatabase(postgres.url, 'postgres'),
        natsUrl: nats.url,
        secret,
      }),
    });
    servers.push(auth);
    const oidc = await ServerProcess.start('oidc', { BENCH_SECRET: secret });
    servers.push(oidc);

    const ourShape = shape(await fetchToken(auth.target));
    const theirShape = shape(await fetchToken(oidc.target));
    console.log(`  auth token:          ${JSON.stringify(ourShape)}`);
    console.log(`  oidc-provider token: ${JSON.stringify(theirShape)}`);
    if (ourShape.alg !== 'ES256' || theirShape.alg !== 'ES256') throw new Error('not ES256');
    if (ourShape.typ !== 'at+jwt' || theirShape.typ !== 'at+jwt') throw new Error('not at+jwt');

    await measure(auth, WARMUP_MS);
    await measure(oidc, WARMUP_MS);
    const ours: Window[] = [];
    const theirs: Window[] = [];
    console.log(
      `client_credentials, ES256 JWT access tokens, ${CONCURRENCY} connections, ` +
        `${ROUNDS} alternating windows of ${WINDOW_MS / 1000} s per server, one process per server`,
    );
    for (let round = 0; round < ROUNDS; round++) {
      ours.push(await measure(auth, WINDOW_MS));
      theirs.push(await measure(oidc, WINDOW_MS));
    }
    const a = total(ours);
    const b = total(theirs);
    console.log(line('auth /oauth/token', a));
    console.log(line('node-oidc-provider /token', b));
    const perWindow = ours.map((w, i) => rate(w) / rate(theirs[i]));
    const cpuPerWindow = ours.map((w, i) => cpuPerToken(theirs[i]) / cpuPerToken(w));
    console.log(`  per-window ratios (tokens/s): ${perWindow.map((r) => r.toFixed(2)).join(' ')}`);
    console.log(
      `  ratio auth / oidc-provider ${(rate(a) / rate(b)).toFixed(2)}x tokens/s ` +
        `(median of windows ${median(perWindow).toFixed(2)}x), ` +
        `${(cpuPerToken(b) / cpuPerToken(a)).toFixed(2)}x tokens per CPU second ` +
        `(median ${median(cpuPerWindow).toFixed(2)}x)  (target >= 2x)`,
    );
    if (a.failed + b.failed > 0) process.exitCode = 1;
  } finally {
    for (const server of servers) await server.stop();
    await nats.stop();
    await postgres.stop();
  }
}

const role = process.env.BENCH_ROLE;
if (role === 'auth') serve(startAuth);
else if (role === 'oidc') serve(startOidcProvider);
else
  void main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
