// SPEC §2 and the users/orders issue: PostgreSQL going away makes /health/ready answer 503, and the
// service recovers by itself when it returns (no restart). Uses its own PostgreSQL to stop it.
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, spawnEmbeddedPostgres } from '../../../../scripts/lib/infra';
import { createProbeServiceApp } from '../../../../test/support/probe-service';
import { startTestNats } from '../../../../test/support/test-infra';
import { baseConfigSchema } from '../config/base-config.schema';
import { loadConfig } from '../config/load-config';
import { eventually } from '../../../../test/support/eventually';

describe('readiness follows the database', () => {
  let dataDir: string;
  let pgPort: number;
  let postgres: Awaited<ReturnType<typeof spawnEmbeddedPostgres>> | undefined;
  let nats: Awaited<ReturnType<typeof startTestNats>>;
  let app: NestFastifyApplication;
  let readyUrl: string;

  const readyStatus = async () => (await fetch(readyUrl)).status;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pg-readiness-'));
    chmodSync(dataDir, 0o755); // as root, PostgreSQL runs as `postgres` and must enter it
    pgPort = await freePort();
    postgres = await spawnEmbeddedPostgres({ dataDir, port: pgPort });
    nats = await startTestNats();
    const config = loadConfig(baseConfigSchema, {
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: String(await freePort()),
      LOG_LEVEL: 'silent',
      DATABASE_URL: postgres.url,
      NATS_URL: nats.url,
    });

    app = await createProbeServiceApp(config);
    await app.listen({ port: config.PORT, host: '127.0.0.1' });
    readyUrl = `http://127.0.0.1:${config.PORT}/health/ready`;
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await postgres?.stop();
    await nats?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers 503 while PostgreSQL is down and 200 again once it is back, without a restart', async () => {
    await eventually(async () => (await readyStatus()) === 200);

    await postgres!.stop();
    postgres = undefined;
    await eventually(async () => (await readyStatus()) === 503);
    const body = (await (await fetch(readyUrl)).json()) as {
      error: { code: string; message: string };
    };
    expect(body.error).toMatchObject({ code: 'UNAVAILABLE', message: 'not ready: database down' });
    expect((await fetch(readyUrl.replace('/ready', '/live'))).status).toBe(200);

    postgres = await spawnEmbeddedPostgres({ dataDir, port: pgPort });
    await eventually(async () => (await readyStatus()) === 200);
  }, 60_000);
});
