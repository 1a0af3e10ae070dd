// libs/security throughput, measured side by side in one run (npm run bench -- security).
// Nest-on-Fastify services in this process; the load comes from one long-lived child process
// over keep-alive HTTP (raw sockets, cheap enough that the service is the bottleneck) and gRPC,
// so the CPU time measured here is the servers' alone. Each ratio compares two cases measured
// against each other in short windows, BENCH_ROUNDS rounds of open, auth, auth, open (ABBA) of
// BENCH_WINDOW_MS each: this machine's speed drifts by tens of percent within seconds, and a
// window leaves costs to the next (garbage, colder caches); in ABBA both hit each case alike.
// A control comparison (the same route in both slots) prints what is left of the noise. Ratios
// are printed as the ratio of the totals and as the median of the per-round ratios.
import 'reflect-metadata';
import {
  authorize,
  CheckPolicies,
  CurrentAbility,
  CurrentPrincipal,
  definePolicy,
  Public,
  Scopes,
  SecurityModule,
  type AppAbility,
  type Principal,
} from '@app/security';
import {
  createServiceApp,
  DatabaseModule,
  grpcServerOptions,
  loadConfig,
  baseConfigSchema,
  MessagingModule,
  PlatformModule,
  protoDir,
  protoFile,
} from '@app/platform';
import infra from '../scripts/lib/infra';
import {
  Controller,
  Get,
  Module,
  Param,
  type DynamicModule,
  type INestMicroservice,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { GrpcMethod, type MicroserviceOptions } from '@nestjs/microservices';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import * as loader from '@grpc/proto-loader';
import { connect as netConnect, type AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';

const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const CONCURRENCY = 16;
/**
 * New tokens signed per window for the cold case: more than a window can use (up to ~8000/s
 * were measured here; a request beyond them counts as failed and fails the run).
 */
const COLD_TOKENS_PER_WINDOW = Math.ceil((WINDOW_MS / 1000) * 12000);

/**
 * A domain object as services hold them: an instance of a class, whose name CASL takes as the
 * subject type (a TypeORM entity is one). CASL's `subject('Item', {...})` on a plain object
 * works too but costs the request a property definition and a copy.
 */
class Item {
  constructor(
    readonly id: string,
    readonly ownerId: string,
    readonly region: string,
    readonly name: string,
  ) {}
}
const ITEM = { id: 'item-1', ownerId: 'user-1', region: 'eu', name: 'lamp' };
const newItem = (row: typeof ITEM) => new Item(row.id, row.ownerId, row.region, row.name);

const BenchPolicy = definePolicy({
  name: 'bench',
  roles: { customer: ({ can }, me) => can('read', 'Item', { ownerId: me.id }) },
  scopes: { 'bench:read': ({ can }) => can('read', 'Item') },
});

@Controller()
class BenchHttpController {
  @Public()
  @Get('open/item')
  open() {
    return newItem(ITEM);
  }

  /** The public route plus one custom parameter: what Nest's parameter pipeline costs. */
  @Public()
  @Get('open/item-with-parameter')
  openWithParameter(@CurrentPrincipal() _caller: Principal | undefined) {
    return newItem(ITEM);
  }

  /** Authentication alone: no parameter, no CASL check. */
  @Get('secure/item-unchecked')
  secureUnchecked() {
    return newItem(ITEM);
  }

  /** The same check made by `@CheckPolicies` on the object the handler returns (an interceptor). */
  @Get('secure/item-checked-on-return')
  @CheckPolicies((ability: AppAbility, item: Item) => ability.can('read', item as never))
  secureCheckedOnReturn() {
    return newItem(ITEM);
  }

  @Get('secure/item')
  secure(@CurrentAbility() ability: AppAbility) {
    const item = newItem(ITEM);
    authorize(ability, 'read', item);
    return item;
  }
}

/** The same pair of routes doing what a service's read does: one row from PostgreSQL by key. */
@Controller()
class BenchRowHttpController {
  constructor(private readonly dataSource: DataSource) {}

  private async load(id: string): Promise<Item | undefined> {
    const rows: (typeof ITEM)[] = await this.dataSource.query(
      'SELECT id, owner_id AS "ownerId", region, name FROM bench_items WHERE id = $1',
      [id],
    );
    return rows[0] && newItem(rows[0]);
  }

  @Public()
  @Get('open/rows/:id')
  openRow(@Param('id') id: string) {
    return this.load(id);
  }

  @Get('secure/rows/:id')
  async secureRow(@Param('id') id: string, @CurrentAbility() ability: AppAbility) {
    const item = await this.load(id);
    authorize(ability, 'read', item);
    return item;
  }
}

@Public()
@Controller()
class OpenGrpcController {
  @GrpcMethod('UsersService', 'GetUser')
  get() {
    return { id: ITEM.id, displayName: ITEM.name };
  }
}

@Controller()
class SecureGrpcController {
  @Scopes('bench:read')
  @GrpcMethod('UsersService', 'GetUser')
  get() {
    return { id: ITEM.id, displayName: ITEM.name };
  }
}

@Module({})
class BenchModule {
  static forRoot(issuer: string, controllers: DynamicModule['controllers']): DynamicModule {
    return {
      module: BenchModule,
      imports: [
        SecurityModule.forRoot({
          issuer,
          audience: 'bench',
          policies: [BenchPolicy],
          // No NATS in this benchmark; the deny-list is still checked on every request.
          revocations: false,
        }),
      ],
      controllers,
    };
  }
}

/**
 * The same routes in a service built exactly like users and orders (`createServiceApp`: JSON
 * request logs, request ids, security headers, metrics, validation, database and NATS modules).
 * SPEC's target is stated for "one of the services", so this is the ratio the target applies to;
 * the bare Nest app shows the cost of authentication alone.
 */
@Module({})
class BenchServiceModule {
  static forRoot(issuer: string, databaseUrl: string, natsUrl: string): DynamicModule {
    return {
      module: BenchServiceModule,
      imports: [
        PlatformModule.forRoot({ serviceName: 'bench', logLevel: 'warn' }),
        DatabaseModule.forRoot({
          url: databaseUrl,
          entities: [],
          migrations: [],
          applicationName: 'bench',
        }),
        MessagingModule.forRoot({
          serviceName: 'bench',
          url: natsUrl,
          ownStreams: [],
          consumers: [],
        }),
        BenchModule.forRoot(issuer, [BenchHttpController, BenchRowHttpController]),
      ],
    };
  }
}

type TokenSet = 'none' | 'user' | 'service' | 'cold';
interface LoadCommand {
  kind: 'http' | 'grpc';
  target: string;
  tokens: TokenSet;
  ms: number;
}
interface GrpcUsersClient {
  GetUser(
    request: { id: string },
    metadata: grpc.Metadata,
    callback: (error: grpc.ServiceError | null) => void,
  ): void;
}
interface LoadResult {
  done: number;
  failed: number;
}

/**
 * One keep-alive connection sending GETs back to back until `until`. Written on a raw socket:
 * with Node's HTTP client the load generator took a whole core while the service used ~0.7 of
 * the other, so the client set the pace (more so for requests carrying a token: a guard that
 * returned true at once still measured 0.91x req/s) and the ratios were not the service's.
 */
function httpConnection(
  url: URL,
  token: () => string | undefined,
  until: number,
): Promise<LoadResult> {
  return new Promise((resolve) => {
    let done = 0;
    let failed = 0;
    let pending: Buffer = Buffer.alloc(0);
    const head = `GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\n`;
    const socket = netConnect(Number(url.port), url.hostname);
    socket.setNoDelay(true);
    const send = () => {
      let t;
      try {
        t = token();
      } catch {
        failed++; // out of cold tokens: counted, and the run fails at the end
        socket.end();
        return;
      }
      socket.write(t ? `${head}Authorization: Bearer ${t}\r\n\r\n` : `${head}\r\n`);
    };
    socket.on('connect', send);
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
      for (;;) {
        const headerEnd = pending.indexOf('\r\n\r\n');
        if (headerEnd < 0) return;
        const header = pending.toString('latin1', 0, headerEnd);
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(header)?.[1] ?? 0);
        if (pending.length < headerEnd + 4 + length) return;
        if (header.startsWith('HTTP/1.1 200 ')) done++;
        else failed++;
        pending = pending.subarray(headerEnd + 4 + length);
        if (Date.now() >= until) {
          socket.end();
          return;
        }
        send();
      }
    });
    socket.on('error', () => failed++);
    socket.on('close', () => resolve({ done, failed }));
  });
}

/**
 * The load generator (a child process): CONCURRENCY keep-alive clients in a loop for each
 * command's window. Cold tokens are each used once, in order, across the whole run.
 */
function runLoadGenerator(): void {
  let sets: Record<Exclude<TokenSet, 'none'>, string[]> | undefined;
  let coldNext = 0;
  const definition = grpc.loadPackageDefinition(
    loader.loadSync(protoFile('users/v1/users.proto'), { includeDirs: [protoDir()] }),
  ) as unknown as {
    users: {
      v1: {
        UsersService: new (target: string, credentials: grpc.ChannelCredentials) => GrpcUsersClient;
      };
    };
  };
  const grpcClients = new Map<string, GrpcUsersClient>();

  const run = async ({ kind, target, tokens, ms }: LoadCommand): Promise<LoadResult> => {
    let next = 0;
    const token = (): string | undefined => {
      if (tokens === 'none') return undefined;
      if (tokens === 'cold') {
        if (coldNext >= sets!.cold.length) throw new Error('out of cold tokens');
        return sets!.cold[coldNext++];
      }
      const list = sets![tokens];
      return list[next++ % list.length];
    };
    const until = Date.now() + ms;
    if (kind === 'http') {
      const results = await Promise.all(
        Array.from({ length: CONCURRENCY }, () => httpConnection(new URL(target), token, until)),
      );
      return results.reduce((sum, r) => ({
        done: sum.done + r.done,
        failed: sum.failed + r.failed,
      }));
    }
    let done = 0;
    let failed = 0;
    let client = grpcClients.get(target);
    if (!client) {
      client = new definition.users.v1.UsersService(target, grpc.credentials.createInsecure());
      grpcClients.set(target, client);
    }
    const one = () =>
      new Promise<void>((resolve) => {
        const metadata = new grpc.Metadata();
        const t = token();
        if (t) metadata.set('authorization', `Bearer ${t}`);
        client.GetUser({ id: ITEM.id }, metadata, (error) => {
          if (error) failed++;
          else done++;
          resolve();
        });
      });
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (Date.now() < until) await one();
      }),
    );
    return { done, failed };
  };

  process.on('message', (message: { tokenSets: typeof sets } | LoadCommand) => {
    if ('tokenSets' in message) {
      sets = message.tokenSets;
      process.send!('ready');
      return;
    }
    run(message).then(
      (result) => process.send!(result),
      (error: Error) => process.send!({ error: error.message }),
    );
  });
}

class LoadGenerator {
  private constructor(private readonly child: ChildProcess) {}

  static async start(tokenSets: Record<Exclude<TokenSet, 'none'>, string[]>) {
    const child = fork(__filename, [], { env: { ...process.env, BENCH_ROLE: 'load' } });
    await new Promise<void>((resolve) => {
      child.once('message', () => resolve());
      child.send({ tokenSets });
    });
    return new LoadGenerator(child);
  }

  run(command: LoadCommand): Promise<LoadResult> {
    return new Promise((resolve, reject) => {
      this.child.once('message', (message: LoadResult | { error: string }) =>
        'error' in message ? reject(new Error(message.error)) : resolve(message),
      );
      this.child.send(command);
    });
  }

  stop(): void {
    this.child.kill();
  }
}

interface Case {
  name: string;
  kind: 'http' | 'grpc';
  target: string;
  tokens: TokenSet;
}

/** Two cases measured against each other: `auth` as a multiple of `open`. */
interface Comparison {
  label: string;
  open: Case;
  auth: Case;
  note: string;
}

interface Window extends LoadResult {
  /** CPU time of this process (the servers) during the window, in microseconds. */
  cpuMicros: number;
  /** Of which in the kernel (system time): mostly the socket reads and writes. */
  kernelMicros: number;
}

async function main() {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = 'bench-1';
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] };
  const jwksServer = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}`;

  const now = Math.floor(Date.now() / 1000);
  const sign = (claims: Record<string, unknown>, key: CryptoKey = privateKey) =>
    new SignJWT({
      iss: issuer,
      aud: 'bench',
      iat: now,
      exp: now + 900,
      jti: randomUUID(),
      ...claims,
    })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid })
      .sign(key);
  const userClaims = {
    sub: 'user-1',
    client_id: 'web',
    scope: '',
    roles: ['customer'],
    region: 'eu',
  };
  process.stdout.write('signing tokens for the cold case...\n');
  const tokenSets = {
    user: [await sign(userClaims)],
    service: [await sign({ sub: 'orders', client_id: 'orders', scope: 'bench:read' })],
    cold: await Promise.all(
      // one warm-up window and two per round
      Array.from({ length: COLD_TOKENS_PER_WINDOW * (2 * ROUNDS + 1) }, () => sign(userClaims)),
    ),
  };

  const app = await NestFactory.create<NestFastifyApplication>(
    BenchModule.forRoot(issuer, [BenchHttpController]),
    new FastifyAdapter(),
    { logger: false },
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = await app.getUrl();

  const postgres = await infra.startEmbeddedPostgres();
  const nats = await infra.startNatsServer();
  const serviceConfig = loadConfig(baseConfigSchema, {
    NODE_ENV: 'production',
    // Both routes of each pair over the same loopback HTTP: the ratios are what authentication
    // costs, not TLS (which a production pod pays alike on its public and its secure routes).
    HTTP_PLAINTEXT: 'true',
    HOST: '127.0.0.1',
    PORT: String(await infra.freePort()),
    LOG_LEVEL: 'warn',
    DATABASE_URL: postgres.url,
    NATS_URL: nats.url,
  });
  const service = await createServiceApp({
    serviceName: 'bench',
    module: BenchServiceModule.forRoot(issuer, postgres.url, nats.url),
    config: serviceConfig,
    openApi: { title: 'bench', description: 'bench' },
    quiet: true,
  });
  await service.listen({ port: serviceConfig.PORT, host: '127.0.0.1' });
  const serviceBase = `http://127.0.0.1:${serviceConfig.PORT}`;
  const dataSource = service.get(DataSource);
  await dataSource.query(
    'CREATE TABLE bench_items (id text PRIMARY KEY, owner_id text NOT NULL, region text NOT NULL, name text NOT NULL)',
  );
  await dataSource.query('INSERT INTO bench_items VALUES ($1, $2, $3, $4)', [
    ITEM.id,
    ITEM.ownerId,
    ITEM.region,
    ITEM.name,
  ]);

  const grpcApps: INestMicroservice[] = [];
  const grpcTargets: string[] = [];
  for (const controller of [OpenGrpcController, SecureGrpcController]) {
    const port = await infra.freePort();
    const micro: INestMicroservice = await NestFactory.createMicroservice<MicroserviceOptions>(
      BenchModule.forRoot(issuer, [controller]),
      {
        ...grpcServerOptions(
          'users.v1',
          'users/v1/users.proto',
          `127.0.0.1:${port}`,
          'plaintext',
          [],
        ),
        logger: false,
      },
    );
    await micro.listen();
    grpcApps.push(micro);
    grpcTargets.push(`127.0.0.1:${port}`);
  }

  const serviceOpen: Case = {
    name: 'service open (public route)',
    kind: 'http',
    target: `${serviceBase}/open/item`,
    tokens: 'none',
  };
  const httpOpen: Case = {
    name: 'http open (public route)',
    kind: 'http',
    target: `${base}/open/item`,
    tokens: 'none',
  };
  const comparisons: Comparison[] = [
    {
      label: 'service warm / open',
      open: serviceOpen,
      auth: {
        name: 'service auth + CASL, warm cache',
        kind: 'http',
        target: `${serviceBase}/secure/item`,
        tokens: 'user',
      },
      note: 'target >= 0.90; the service pipeline of users and orders',
    },
    {
      // The same route in both slots: what the pairing itself measures when nothing differs.
      label: '  control, open / open',
      open: serviceOpen,
      auth: { ...serviceOpen, name: 'service open, measured again (control)' },
      note: "the same route in both slots: this run's noise",
    },
    {
      label: '  of which, + 1 parameter',
      open: serviceOpen,
      auth: {
        name: 'service open + 1 parameter',
        kind: 'http',
        target: `${serviceBase}/open/item-with-parameter`,
        tokens: 'none',
      },
      note: "Nest's parameter pipeline alone",
    },
    {
      label: '  of which, token bytes',
      open: serviceOpen,
      auth: { ...serviceOpen, name: 'service open, request carries a token', tokens: 'user' },
      note: 'the public route, sent the token it ignores',
    },
    {
      label: '  of which, auth only',
      open: serviceOpen,
      auth: {
        name: 'service auth only, warm cache',
        kind: 'http',
        target: `${serviceBase}/secure/item-unchecked`,
        tokens: 'user',
      },
      note: 'the guard alone: no parameter, no CASL',
    },
    {
      // The other way to check a loaded object: the route returns it, @CheckPolicies checks it.
      label: 'service @CheckPolicies result',
      open: serviceOpen,
      auth: {
        name: 'service auth + @CheckPolicies on the result',
        kind: 'http',
        target: `${serviceBase}/secure/item-checked-on-return`,
        tokens: 'user',
      },
      note: 'a Nest interceptor: Nest binds an AsyncResource per interceptor call',
    },
    {
      label: 'service, reads a row',
      open: {
        name: 'service open, reads a row',
        kind: 'http',
        target: `${serviceBase}/open/rows/${ITEM.id}`,
        tokens: 'none',
      },
      auth: {
        name: 'service auth + CASL, reads a row',
        kind: 'http',
        target: `${serviceBase}/secure/rows/${ITEM.id}`,
        tokens: 'user',
      },
      note: 'both routes read one row by key, as GET /orders/:id does',
    },
    {
      label: 'http warm / open',
      open: httpOpen,
      auth: {
        name: 'http auth + CASL, warm cache',
        kind: 'http',
        target: `${base}/secure/item`,
        tokens: 'user',
      },
      note: 'bare Nest app',
    },
    {
      label: 'grpc auth / open',
      open: { name: 'grpc open', kind: 'grpc', target: grpcTargets[0], tokens: 'none' },
      auth: {
        name: 'grpc auth + scope, warm cache',
        kind: 'grpc',
        target: grpcTargets[1],
        tokens: 'service',
      },
      note: 'a service token with the scope the method asks for',
    },
    {
      // Last: each cold window puts ~8000 new tokens through the verification cache, and the
      // garbage it leaves is collected in the windows after it.
      label: 'http cold / open',
      open: { ...httpOpen, name: 'http open, next to the cold case' },
      auth: {
        name: 'http auth + CASL, cold (new token per request)',
        kind: 'http',
        target: `${base}/secure/item`,
        tokens: 'cold',
      },
      note: 'a new token on every request',
    },
  ];

  // BENCH_ONLY=<regex>: only the comparisons whose label matches (e.g. BENCH_ONLY='warm|control').
  const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : undefined;
  const selected = only ? comparisons.filter((c) => only.test(c.label)) : comparisons;
  const load = await LoadGenerator.start(tokenSets);
  const measure = async (c: Case, ms: number): Promise<Window> => {
    const before = process.cpuUsage();
    const result = await load.run({ kind: c.kind, target: c.target, tokens: c.tokens, ms });
    const used = process.cpuUsage(before);
    return { ...result, cpuMicros: used.user + used.system, kernelMicros: used.system };
  };
  // Each comparison on its own: a warm-up window of each case (JIT, the JWKS fetch, the
  // verification cache, the connection pool), then ROUNDS rounds of open, auth, auth, open
  // (ABBA): each case sits once before and once after the other, so a drift within the round
  // and the cost a window leaves to the next one (garbage, a colder cache) hit both alike.
  const results = new Map<Comparison, { open: Window[]; auth: Window[] }>();
  for (const comparison of selected) {
    await measure(comparison.open, Math.min(WINDOW_MS, 1000));
    await measure(comparison.auth, Math.min(WINDOW_MS, 1000));
    const open: Window[] = [];
    const auth: Window[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      open.push(await measure(comparison.open, WINDOW_MS));
      auth.push(await measure(comparison.auth, WINDOW_MS));
      auth.push(await measure(comparison.auth, WINDOW_MS));
      open.push(await measure(comparison.open, WINDOW_MS));
    }
    results.set(comparison, { open, auth });
  }
  load.stop();

  const sum = (windows: Window[]) =>
    windows.reduce(
      (total, w) => ({
        done: total.done + w.done,
        failed: total.failed + w.failed,
        cpuMicros: total.cpuMicros + w.cpuMicros,
        kernelMicros: total.kernelMicros + w.kernelMicros,
      }),
      { done: 0, failed: 0, cpuMicros: 0, kernelMicros: 0 },
    );
  const seconds = 2 * ROUNDS * (WINDOW_MS / 1000);
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];
  const lines: string[] = [];
  const ratios: string[] = [];
  let failures = 0;
  for (const comparison of selected) {
    const { open, auth } = results.get(comparison)!;
    const totals = { open: sum(open), auth: sum(auth) };
    failures += totals.open.failed + totals.auth.failed;
    for (const [c, t] of [
      [comparison.open, totals.open],
      [comparison.auth, totals.auth],
    ] as const) {
      lines.push(
        `${c.name.padEnd(48)} ${(t.done / seconds).toFixed(0).padStart(7)} req/s ` +
          `${(t.cpuMicros / Math.max(1, t.done)).toFixed(0).padStart(5)} µs CPU/req ` +
          `(kernel ${(t.kernelMicros / Math.max(1, t.done)).toFixed(0).padStart(3)})` +
          (t.failed ? `  (${t.failed} failed)` : ''),
      );
    }
    const perRound = Array.from({ length: ROUNDS }, (_, round) => {
      const pair = (windows: Window[]) => windows[2 * round].done + windows[2 * round + 1].done;
      return pair(auth) / pair(open);
    });
    const cpuPerRequest = (t: { done: number; cpuMicros: number }) =>
      t.cpuMicros / Math.max(1, t.done);
    const userPerRequest = (t: { done: number; cpuMicros: number; kernelMicros: number }) =>
      (t.cpuMicros - t.kernelMicros) / Math.max(1, t.done);
    ratios.push(
      `ratio ${`${comparison.label}:`.padEnd(28)} ` +
        `${(totals.auth.done / totals.open.done).toFixed(2)}x req/s ` +
        `(median of rounds ${median(perRound).toFixed(2)}x), ` +
        `${(cpuPerRequest(totals.open) / cpuPerRequest(totals.auth)).toFixed(2)}x requests per CPU second ` +
        `(user space ${(userPerRequest(totals.open) / userPerRequest(totals.auth)).toFixed(2)}x)` +
        `  (${comparison.note})`,
    );
  }
  process.stdout.write(
    [
      `concurrency ${CONCURRENCY}, ES256; per comparison ${ROUNDS} rounds of open, auth, auth, open ` +
        `windows of ${WINDOW_MS / 1000} s`,
      ...lines,
      '',
      ...ratios,
      '',
    ].join('\n'),
  );
  await app.close();
  await service.close();
  await nats.stop();
  await postgres.stop();
  for (const micro of grpcApps) await micro.close();
  jwksServer.close();
  process.exit(failures > 0 ? 1 : 0);
}

if (process.env.BENCH_ROLE === 'load') runLoadGenerator();
else void main();
