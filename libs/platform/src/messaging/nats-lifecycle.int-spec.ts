// The NATS connection across a service's life, against real nats-servers: shutdown with a
// message in hand, and a broker that refuses the service's credentials for a while.
import { Controller, Module } from '@nestjs/common';
import { Ctx, EventPattern } from '@nestjs/microservices';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { connect } from 'nats';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startNatsServer } from '../../../../scripts/lib/infra';
import { eventually } from '../../../../test/support/eventually';
import { createTestDatabase } from '../../../../test/support/test-infra';
import { createServiceApp } from '../bootstrap/service-app';
import { baseConfigSchema } from '../config/base-config.schema';
import { loadConfig } from '../config/load-config';
import { serviceDataSourceOptions } from '../database/data-source-options';
import { DatabaseModule } from '../database/database.module';
import { createMessagingTables } from '../database/messaging-tables';
import { runMigrations } from '../database/run-migrations';
import { PlatformModule } from '../platform.module';
import { JetStreamContext } from './jetstream.context';
import { MessagingModule } from './messaging.module';

class CreateMessagingTables1764000000000 {
  name = 'CreateMessagingTables1764000000000';
  up = createMessagingTables;
  async down() {}
}

const handled: { id: string; finishedAt?: number }[] = [];

@Controller()
class SlowEventsController {
  @EventPattern('orders.slow')
  async onSlow(_event: unknown, @Ctx() context: JetStreamContext): Promise<void> {
    const entry: { id: string; finishedAt?: number } = { id: context.getMessageId()! };
    handled.push(entry);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    entry.finishedAt = Date.now();
  }
}

describe('the NATS connection over a service life', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  const dbOptions = () => ({
    url: database.url,
    entities: [],
    migrations: [CreateMessagingTables1764000000000],
    applicationName: 'probe',
  });
  const stores: string[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('nats_lifecycle');
    await runMigrations(serviceDataSourceOptions(dbOptions()));
  }, 30_000);

  afterAll(async () => {
    await database?.drop();
    for (const dir of stores) rmSync(dir, { recursive: true, force: true });
  });

  async function startApp(natsUrl: string, credentials: { user?: string; password?: string }) {
    const config = loadConfig(baseConfigSchema, {
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: String(await freePort()),
      LOG_LEVEL: 'silent',
      DATABASE_URL: database.url,
      NATS_URL: natsUrl,
    });
    @Module({
      imports: [
        PlatformModule.forRoot({ serviceName: 'orders', logLevel: 'silent' }),
        DatabaseModule.forRoot(dbOptions()),
        MessagingModule.forRoot({
          serviceName: 'orders',
          url: natsUrl,
          ...credentials,
          ownStreams: ['ORDERS'],
          consumers: [
            {
              stream: 'ORDERS',
              durable: 'lifecycle',
              filterSubject: 'orders.>',
              ackWaitMs: 10_000,
            },
          ],
        }),
      ],
      controllers: [SlowEventsController],
    })
    class ProbeModule {}
    const app: NestFastifyApplication = await createServiceApp({
      serviceName: 'orders',
      module: ProbeModule,
      config,
      openApi: { title: 'probe', description: 'probe' },
      quiet: true,
    });
    await app.startAllMicroservices();
    await app.listen({ port: config.PORT, host: '127.0.0.1' });
    return { app, ready: () => fetch(`http://127.0.0.1:${config.PORT}/health/ready`) };
  }

  it('acks a message whose handler was running when the app began to close', async () => {
    const store = mkdtempSync(join(tmpdir(), 'nats-lifecycle-'));
    stores.push(store);
    const nats = await startNatsServer({ storeDir: store });
    const { app } = await startApp(nats.url, {});
    try {
      const client = await connect({ servers: nats.url });
      await eventually(() =>
        client
          .jetstream()
          .publish('orders.slow', Buffer.from('{}'), { msgID: 'closing-1' })
          .then(
            () => true,
            () => undefined,
          ),
      );
      await eventually(() => handled.some((entry) => entry.id === 'closing-1'));
      await app.close();
      expect(handled.find((entry) => entry.id === 'closing-1')?.finishedAt).toBeDefined();
      // The ack went out before the connection was drained: nothing waits for a redelivery.
      const info = await (await client.jetstreamManager()).consumers.info('ORDERS', 'lifecycle');
      expect(info.num_ack_pending).toBe(0);
      expect(info.ack_floor.stream_seq).toBe(1);
      await client.close();
    } finally {
      await app.close().catch(() => undefined);
      await nats.stop();
    }
  }, 30_000);

  it('becomes ready once the broker accepts its credentials, at start and after a refusal while connected', async () => {
    const port = await freePort();
    const store = mkdtempSync(join(tmpdir(), 'nats-lifecycle-'));
    stores.push(store);
    const brokerAccepting = (password: string) => {
      const configFile = join(store, `auth-${password}.conf`);
      writeFileSync(
        configFile,
        `authorization { users = [ { user: "orders", password: "${password}" } ] }\n`,
      );
      return startNatsServer({ port, storeDir: join(store, 'js'), configFile });
    };
    let nats = await brokerAccepting('other-password');
    const { app, ready } = await startApp(`nats://127.0.0.1:${port}`, {
      user: 'orders',
      password: 'service-password',
    });
    try {
      // Refused at the first connect: not ready, and it keeps trying.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect((await ready()).status).toBe(503);
      await nats.stop();
      nats = await brokerAccepting('service-password');
      await eventually(async () => (await ready()).status === 200, 20_000, 200);

      // Refused while reconnecting (nats.js gives such a connection up): it connects anew.
      await nats.stop();
      nats = await brokerAccepting('other-password');
      await eventually(async () => (await ready()).status === 503, 10_000, 200);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      await nats.stop();
      nats = await brokerAccepting('service-password');
      await eventually(async () => (await ready()).status === 200, 30_000, 200);
    } finally {
      await app.close();
      await nats.stop();
    }
  }, 90_000);
});
