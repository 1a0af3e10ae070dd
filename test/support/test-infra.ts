import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { startNatsServer, withDatabase } from '../../scripts/lib/infra';

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
