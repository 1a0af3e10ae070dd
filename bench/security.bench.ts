// libs/security throughput, measured side by side in one run (npm run bench -- security).
// Nest-on-Fastify services in this process; the load comes from one long-lived child process
// over keep-alive HTTP (raw sockets, cheap enough that the service is the bottleneck) and gRPC,
// so the CPU time measured here is the servers' alone. Cases run in
// short alternating windows (every case once per round, BENCH_ROUNDS rounds of BENCH_WINDOW_MS):
// this machine's speed drifts by tens of percent within seconds, and a drift then hits every
// case alike. Ratios are printed as the ratio of the totals and as the median of the per-round
// ratios.
import 'reflect-metadata';
import {
  authorize,
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
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const CONCURRENCY = 16;
/**
 * New tokens signed per round for the cold case: more than a window can use (up to ~8000/s
 * were measured here; a request beyond them counts as failed and fails the run).
 */
const COLD_TOKENS_PER_ROUND = Math.ceil((WINDOW_MS / 1000) * 16000);

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

interface Window extends LoadResult {
  /** CPU time of this process (the servers) during the window, in microseconds. */
  cpuMicros: number;
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
      Array.from({ length: COLD_TOKENS_PER_ROUND * (ROUNDS + 1) }, () => sign(userClaims)),
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
        ...grpcServerOptions('users.v1', 'users/v1/users.proto', `127.0.0.1:${port}`),
        logger: false,
      },
    );
    await micro.listen();
    grpcApps.push(micro);
    grpcTargets.push(`127.0.0.1:${port}`);
  }

  const cases: Case[] = [
    { name: 'http open (public route)', kind: 'http', target: `${base}/open/item`, tokens: 'none' },
    {
      name: 'http auth + CASL, warm cache',
      kind: 'http',
      target: `${base}/secure/item`,
      tokens: 'user',
    },
    {
      name: 'service open (public route)',
      kind: 'http',
      target: `${serviceBase}/open/item`,
      tokens: 'none',
    },
    {
      name: 'service auth + CASL, warm cache',
      kind: 'http',
      target: `${serviceBase}/secure/item`,
      tokens: 'user',
    },
    {
      // The same route again: how far two identical cases drift apart in this run.
      name: 'service open, measured again (control)',
      kind: 'http',
      target: `${serviceBase}/open/item`,
      tokens: 'none',
    },
    {
      name: 'service open + 1 parameter',
      kind: 'http',
      target: `${serviceBase}/open/item-with-parameter`,
      tokens: 'none',
    },
    {
      name: 'service open, request carries a token',
      kind: 'http',
      target: `${serviceBase}/open/item`,
      tokens: 'user',
    },
    {
      name: 'service auth only, warm cache',
      kind: 'http',
      target: `${serviceBase}/secure/item-unchecked`,
      tokens: 'user',
    },
    {
      name: 'service open, reads a row',
      kind: 'http',
      target: `${serviceBase}/open/rows/${ITEM.id}`,
      tokens: 'none',
    },
    {
      name: 'service auth + CASL, reads a row',
      kind: 'http',
      target: `${serviceBase}/secure/rows/${ITEM.id}`,
      tokens: 'user',
    },
    { name: 'grpc open', kind: 'grpc', target: grpcTargets[0], tokens: 'none' },
    {
      name: 'grpc auth + scope, warm cache',
      kind: 'grpc',
      target: grpcTargets[1],
      tokens: 'service',
    },
  ];

  // The cold case runs in a phase of its own, alternating with the public route: each cold
  // window puts ~8000 new tokens through the verification cache, and the garbage it leaves
  // (collected in the windows after it) made the case measured next look slower.
  const coldCases: Case[] = [
    { ...cases[0], name: 'http open, next to the cold case' },
    {
      name: 'http auth + CASL, cold (new token per request)',
      kind: 'http',
      target: `${base}/secure/item`,
      tokens: 'cold',
    },
  ];
  const load = await LoadGenerator.start(tokenSets);
  const allCases = [...cases, ...coldCases];
  const windows = new Map<string, Window[]>(allCases.map((c) => [c.name, []]));
  const measure = async (c: Case, ms: number): Promise<Window> => {
    const before = process.cpuUsage();
    const result = await load.run({ kind: c.kind, target: c.target, tokens: c.tokens, ms });
    const used = process.cpuUsage(before);
    return { ...result, cpuMicros: used.user + used.system };
  };
  // Warm-up: JIT, the JWKS fetch, the verification cache, the connection pool.
  for (const c of cases) await measure(c, Math.min(WINDOW_MS, 1000));
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of cases) windows.get(c.name)!.push(await measure(c, WINDOW_MS));
  }
  for (const c of coldCases) await measure(c, Math.min(WINDOW_MS, 1000));
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of coldCases) windows.get(c.name)!.push(await measure(c, WINDOW_MS));
  }
  load.stop();

  const total = (name: string) =>
    windows.get(name)!.reduce(
      (sum, w) => ({
        done: sum.done + w.done,
        failed: sum.failed + w.failed,
        cpuMicros: sum.cpuMicros + w.cpuMicros,
      }),
      { done: 0, failed: 0, cpuMicros: 0 },
    );
  const rps = (name: string) => total(name).done / ((ROUNDS * WINDOW_MS) / 1000);
  const cpu = (name: string) => total(name).cpuMicros / Math.max(1, total(name).done);
  const lines = allCases.map(({ name }) => {
    const t = total(name);
    return (
      `${name.padEnd(48)} ${rps(name).toFixed(0).padStart(7)} req/s ${cpu(name).toFixed(0).padStart(5)} µs CPU/req` +
      (t.failed ? `  (${t.failed} failed)` : '')
    );
  });
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];
  const perRound = (auth: string, open: string) =>
    median(windows.get(auth)!.map((w, round) => w.done / windows.get(open)![round].done));
  const ratio = (auth: string, open: string) =>
    `${(rps(auth) / rps(open)).toFixed(2)}x req/s (median of rounds ${perRound(auth, open).toFixed(2)}x), ` +
    `${(cpu(open) / cpu(auth)).toFixed(2)}x requests per CPU second`;
  process.stdout.write(
    [
      `concurrency ${CONCURRENCY}, ${ROUNDS} rounds of ${WINDOW_MS / 1000} s per case, ES256`,
      ...lines,
      '',
      `ratio service warm / open:   ${ratio('service auth + CASL, warm cache', 'service open (public route)')}  (target >= 0.90; the service pipeline of users and orders)`,
      `  control, open / open:      ${ratio('service open, measured again (control)', 'service open (public route)')}  (the same route twice: this run's noise)`,
      `  of which, + 1 parameter:   ${ratio('service open + 1 parameter', 'service open (public route)')}  (Nest's parameter pipeline alone)`,
      `  of which, token bytes:     ${ratio('service open, request carries a token', 'service open (public route)')}  (the public route, sent the token it ignores)`,
      `  of which, auth only:       ${ratio('service auth only, warm cache', 'service open (public route)')}  (the guard alone: no parameter, no CASL)`,
      `ratio service, reads a row:  ${ratio('service auth + CASL, reads a row', 'service open, reads a row')}  (both routes read one row by key, as GET /orders/:id does)`,
      `ratio http warm / open:      ${ratio('http auth + CASL, warm cache', 'http open (public route)')}  (bare Nest app)`,
      `ratio http cold / open:      ${ratio('http auth + CASL, cold (new token per request)', 'http open, next to the cold case')}`,
      `ratio grpc auth / open:      ${ratio('grpc auth + scope, warm cache', 'grpc open')}`,
      '',
    ].join('\n'),
  );
  const failures = allCases.reduce((sum, c) => sum + total(c.name).failed, 0);
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
