import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { freePort, startNatsServer, waitForPort, withDatabase } from '../../scripts/lib/infra';

/**
 * A fresh database on the test PostgreSQL (see global-setup.mjs), dropped by `drop()`.
 * Each spec file makes its own, so specs never see each other's rows.
 */
export async function createTestDatabase(
  prefix: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl)
    throw new Error(
      'TEST_DATABASE_URL is not set: run integration specs through jest (global setup)',
    );
  const name = `t_${prefix.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  return {
    url: withDatabase(adminUrl, name),
    async drop() {
      const client = new Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.end();
    },
  };
}

/**
 * A nats-server with JetStream for one spec file: private unless NATS_URL is given (then the
 * specs run one at a time, see jest.config.js). `stop()` is a no-op for a given server.
 */
export async function startTestNats(): Promise<{ url: string; stop(): Promise<void> }> {
  if (process.env.NATS_URL) return { url: process.env.NATS_URL, stop: async () => undefined };
  const server = await startNatsServer();
  return { url: server.url, stop: () => server.stop() };
}

const REDIS_INSTALL_HINT =
  'redis-server not found: install it (Debian/Ubuntu: `apt-get install -y redis-server`), ' +
  'set REDIS_SERVER_BIN, or set REDIS_URL to an existing Redis';

function findRedisServer(): string | undefined {
  const candidates = [process.env.REDIS_SERVER_BIN, 'redis-server', '/usr/bin/redis-server'];
  return candidates
    .filter((candidate): candidate is string => Boolean(candidate))
    .find((candidate) => spawnSync(candidate, ['--version']).status === 0);
}

/**
 * A Redis for one spec file: REDIS_URL when given (`stop()` is then a no-op), otherwise a
 * private `redis-server` on a free port that persists nothing and is stopped by `stop()`.
 */
export async function startTestRedis(): Promise<{ url: string; stop(): Promise<void> }> {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, stop: async () => undefined };
  const bin = findRedisServer();
  if (!bin) throw new Error(REDIS_INSTALL_HINT);
  const port = await freePort();
  const child = spawn(
    bin,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await Promise.race([
      waitForPort(port, 10_000),
      exited.then((code) => {
        throw new Error(`redis-server exited with ${code}: ${output}`);
      }),
    ]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
