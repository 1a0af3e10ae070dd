// libs/security throughput, measured side by side in one run (npm run bench -- security).
// One Nest-on-Fastify service; the load comes from a worker thread over keep-alive HTTP/gRPC.
// Cases alternate (open, warm, open, warm, ...) so machine noise hits both sides alike.
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
import { subject } from '@casl/ability';
import {
  Controller,
  Get,
  Module,
  type DynamicModule,
  type INestMicroservice,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { GrpcMethod, type MicroserviceOptions } from '@nestjs/microservices';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CONCURRENCY = 16;
const ITEM = { id: 'item-1', ownerId: 'user-1', region: 'eu', name: 'lamp' };

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
    return ITEM;
  }

  /** The public route plus one custom parameter: what Nest's parameter pipeline costs. */
  @Public()
  @Get('open/item-with-parameter')
  openWithParameter(@CurrentPrincipal() _caller: Principal | undefined) {
    return ITEM;
  }

  /** Authentication alone: no parameter, no CASL check. */
  @Get('secure/item-unchecked')
  secureUnchecked() {
    return ITEM;
  }

  @Get('secure/item')
  secure(@CurrentAbility() ability: AppAbility) {
    const item = subject('Item', { ...ITEM });
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
 * the bare Nest app above shows the cost of authentication alone.
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
        BenchModule.forRoot(issuer, [BenchHttpController]),
      ],
    };
  }
}

// The load generator: N keep-alive clients in a loop for `seconds`; counts completed requests.
// It runs in its own process (input on stdin, result on stdout), so the CPU time measured for
// this process is the servers' alone.
const LOAD = `
let input = '';
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', () => main(JSON.parse(input)));
async function main(workerData) {
const { kind, target, tokens, seconds, concurrency, proto, protoDir } = workerData;
let next = 0;
const token = () => (tokens.length ? tokens[next++ % tokens.length] : undefined);
  let done = 0, failed = 0;
  const until = Date.now() + seconds * 1000;
  if (kind === 'http') {
    const http = require('node:http');
    const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    const one = () => new Promise((resolve) => {
      const t = token();
      const req = http.get(target, { agent, headers: t ? { authorization: 'Bearer ' + t } : {} }, (res) => {
        res.resume();
        res.on('end', () => { res.statusCode === 200 ? done++ : failed++; resolve(); });
      });
      req.on('error', () => { failed++; resolve(); });
    });
    await Promise.all(Array.from({ length: concurrency }, async () => { while (Date.now() < until) await one(); }));
    agent.destroy();
  } else {
    const grpc = require('@grpc/grpc-js');
    const loader = require('@grpc/proto-loader');
    const pkg = grpc.loadPackageDefinition(loader.loadSync(proto, { includeDirs: [protoDir] }));
    const client = new pkg.users.v1.UsersService(target, grpc.credentials.createInsecure());
    const one = () => new Promise((resolve) => {
      const metadata = new grpc.Metadata();
      const t = token();
      if (t) metadata.set('authorization', 'Bearer ' + t);
      client.GetUser({ id: 'item-1' }, metadata, (error) => { error ? failed++ : done++; resolve(); });
    });
    await Promise.all(Array.from({ length: concurrency }, async () => { while (Date.now() < until) await one(); }));
    client.close();
  }
  process.stdout.write(JSON.stringify({ done, failed }));
}
`;

interface LoadResult {
  done: number;
  failed: number;
  /** CPU time of this process (the servers) while the load ran, in microseconds. */
  cpuMicros: number;
}

function load(kind: 'http' | 'grpc', target: string, tokens: string[]): Promise<LoadResult> {
  return new Promise<LoadResult>((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', LOAD], { stdio: ['pipe', 'pipe', 'inherit'] });
    let output = '';
    const before = process.cpuUsage();
    child.stdout.on('data', (chunk) => (output += chunk));
    child.once('error', reject);
    child.once('exit', (code) => {
      const used = process.cpuUsage(before);
      if (code !== 0) return reject(new Error(`load generator exited with ${code}`));
      const { done, failed } = JSON.parse(output) as { done: number; failed: number };
      resolve({ done, failed, cpuMicros: used.user + used.system });
    });
    child.stdin.end(
      JSON.stringify({
        kind,
        target,
        tokens,
        seconds: SECONDS,
        concurrency: CONCURRENCY,
        proto: protoFile('users/v1/users.proto'),
        protoDir: protoDir(),
      }),
    );
  });
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
  const userToken = await sign(userClaims);
  const serviceToken = await sign({ sub: 'orders', client_id: 'orders', scope: 'bench:read' });
  process.stdout.write('signing tokens for the cold case...\n');
  const coldTokens = await Promise.all(
    Array.from({ length: 6000 * ROUNDS }, () => sign(userClaims)),
  );

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

  const grpcApps: INestMicroservice[] = [];
  const grpcTargets: string[] = [];
  for (const controller of [OpenGrpcController, SecureGrpcController]) {
    const port: number = 50_900 + grpcApps.length + Math.floor(Math.random() * 50) * 2;
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

  const totals: Record<string, LoadResult> = {};
  /** Each round's result per case, for the per-round ratios. */
  const rounds: Record<string, LoadResult[]> = {};
  const run = async (name: string, kind: 'http' | 'grpc', target: string, tokens: string[]) => {
    const result = await load(kind, target, tokens);
    (rounds[name] ??= []).push(result);
    const total = (totals[name] ??= { done: 0, failed: 0, cpuMicros: 0 });
    total.done += result.done;
    total.failed += result.failed;
    total.cpuMicros += result.cpuMicros;
  };
  // Warm-up: JIT, the JWKS fetch, the verification cache.
  await load('http', `${base}/secure/item`, [userToken]);
  await load('http', `${serviceBase}/secure/item`, [userToken]);
  for (let round = 0; round < ROUNDS; round++) {
    await run('http open (public route)', 'http', `${base}/open/item`, []);
    await run('http auth + CASL, warm cache', 'http', `${base}/secure/item`, [userToken]);
    await run(
      'http auth + CASL, cold (new token per request)',
      'http',
      `${base}/secure/item`,
      coldTokens.slice(round * 6000, (round + 1) * 6000),
    );
    await run('service open (public route)', 'http', `${serviceBase}/open/item`, []);
    await run('service auth + CASL, warm cache', 'http', `${serviceBase}/secure/item`, [userToken]);
    await run('service open + 1 parameter', 'http', `${serviceBase}/open/item-with-parameter`, []);
    await run('service auth only, warm cache', 'http', `${serviceBase}/secure/item-unchecked`, [
      userToken,
    ]);
    await run('grpc open', 'grpc', grpcTargets[0], []);
    await run('grpc auth + scope, warm cache', 'grpc', grpcTargets[1], [serviceToken]);
  }

  const rps = (name: string) => totals[name].done / (SECONDS * ROUNDS);
  // Server CPU per request: steadier than req/s on a shared 2-core machine (the load generator
  // runs in another process and is not counted).
  const cpu = (name: string) => totals[name].cpuMicros / Math.max(1, totals[name].done);
  const lines = Object.entries(totals).map(
    ([name, t]) =>
      `${name.padEnd(48)} ${rps(name).toFixed(0).padStart(7)} req/s ${cpu(name).toFixed(0).padStart(5)} µs CPU/req` +
      (t.failed ? `  (${t.failed} failed)` : ''),
  );
  // Cases of one round run back to back, so a round's ratio sees the machine in one state; the
  // median of those ratios moves less with a noisy neighbour than the ratio of the totals.
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];
  const perRound = (auth: string, open: string) =>
    median(rounds[auth].map((result, round) => result.done / rounds[open][round].done));
  const ratio = (auth: string, open: string) =>
    `${(rps(auth) / rps(open)).toFixed(2)}x req/s, ${(cpu(open) / cpu(auth)).toFixed(2)}x requests per CPU second, ` +
    `${perRound(auth, open).toFixed(2)}x median of the per-round req/s ratios`;
  process.stdout.write(
    [
      `concurrency ${CONCURRENCY}, ${ROUNDS} x ${SECONDS} s per case, ES256`,
      ...lines,
      '',
      `ratio service warm / open: ${ratio('service auth + CASL, warm cache', 'service open (public route)')}  (target >= 0.90; the service pipeline of users and orders)`,
      `  of which, service open + 1 parameter / open: ${ratio('service open + 1 parameter', 'service open (public route)')}  (Nest's parameter pipeline alone)`,
      `  of which, service auth only / open:          ${ratio('service auth only, warm cache', 'service open (public route)')}  (the guard alone: no parameter, no CASL)`,
      `ratio http warm / open:    ${ratio('http auth + CASL, warm cache', 'http open (public route)')}  (bare Nest app)`,
      `ratio http cold / open:    ${ratio('http auth + CASL, cold (new token per request)', 'http open (public route)')}`,
      `ratio grpc auth / open:    ${ratio('grpc auth + scope, warm cache', 'grpc open')}`,
      '',
    ].join('\n'),
  );
  const failures = Object.values(totals).reduce((sum, t) => sum + t.failed, 0);
  await app.close();
  await service.close();
  await nats.stop();
  await postgres.stop();
  for (const micro of grpcApps) await micro.close();
  jwksServer.close();
  process.exit(failures > 0 ? 1 : 0);
}

void main();
