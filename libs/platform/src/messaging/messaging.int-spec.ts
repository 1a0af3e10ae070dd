// The outbox → JetStream → consumer path against a real PostgreSQL and a real nats-server.
import { Body, Controller, HttpCode, Module, Post } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { connect, headers as natsHeaders } from 'nats';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { freePort, startNatsServer } from '../../../../scripts/lib/infra';
import { createTestDatabase } from '../../../../test/support/test-infra';
import { createServiceApp } from '../bootstrap/service-app';
import { baseConfigSchema } from '../config/base-config.schema';
import { loadConfig } from '../config/load-config';
import { currentRequestId, runWithRequestContext } from '../context/request-context';
import { DatabaseModule } from '../database/database.module';
import { DeadLetter } from '../database/dead-letter.entity';
import { DeadLetterService } from './dead-letter.service';
import { createMessagingTables } from '../database/messaging-tables';
import { runMigrations } from '../database/run-migrations';
import { serviceDataSourceOptions } from '../database/data-source-options';
import { ApiError } from '../errors/api-error';
import { Public } from '../http/public.decorator';
import { PlatformModule } from '../platform.module';
import { InboxService } from './inbox.service';
import { JetStreamContext } from './jetstream.context';
import { MessagingModule } from './messaging.module';
import { OutboxService } from './outbox.service';
import { eventually } from '../../../../test/support/eventually';

class CreateMessagingTables1764000000000 {
  name = 'CreateMessagingTables1764000000000';
  up = createMessagingTables;
  async down() {}
}

/** What the consumer saw, per test. */
const seen = {
  deliveries: [] as { id: string; requestId?: string; attempt: number }[],
  applied: [] as string[],
  failFirstDeliveryAfterApply: new Set<string>(),
  stuckDeliveries: 0,
  slow: [] as { id: string; attempt: number }[],
};

@Controller()
class ProbeEventsController {
  constructor(private readonly inbox: InboxService) {}

  @EventPattern('orders.created')
  async onCreated(@Payload() event: { id: string }, @Ctx() context: JetStreamContext) {
    seen.deliveries.push({
      id: event.id,
      requestId: currentRequestId(),
      attempt: context.getDeliveryCount(),
    });
    await this.inbox.processOnce(context.getMessageId()!, context.getSubject(), async () => {
      seen.applied.push(event.id);
    });
    // A crash after the effect committed but before the ack: JetStream redelivers.
    if (seen.failFirstDeliveryAfterApply.delete(event.id))
      throw new ApiError(503, 'simulated crash before ack');
  }

  /** Answers within its deadline, but slowly: the messages behind it wait. */
  @EventPattern('orders.slow')
  async onSlow(@Ctx() context: JetStreamContext) {
    seen.slow.push({ id: context.getMessageId()!, attempt: context.getDeliveryCount() });
    await new Promise((resolve) => setTimeout(resolve, 700));
  }

  /** Never answers: the transport must give up on it, and say so. */
  @EventPattern('orders.stuck')
  onStuck(): Promise<void> {
    seen.stuckDeliveries++;
    return new Promise(() => undefined);
  }

  @EventPattern('orders.cancelled')
  onCancelled(@Payload() event: { reason: string }) {
    if (event.reason === 'refuse') throw new ApiError(403, 'publisher may not send this');
  }
}

/** An HTTP route that writes an event: the request's context must survive its body parsing. */
@Controller('probe')
class ProbeHttpController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxService,
  ) {}

  @Public()
  @Post('orders')
  @HttpCode(204)
  async create(@Body() body: { id: string }): Promise<void> {
    await this.dataSource.transaction((manager) =>
      this.outbox.enqueue(manager, 'orders.created', { id: body.id }),
    );
  }
}

describe('outbox, relay and JetStream consumer', () => {
  let app: NestFastifyApplication;
  let nats: Awaited<ReturnType<typeof startNatsServer>>;
  let natsPort: number;
  let storeDir: string;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let dataSource: DataSource;
  let outbox: OutboxService;
  let baseUrl: string;

  const enqueue = (id: string, subject = 'orders.created') =>
    dataSource.transaction((manager) => outbox.enqueue(manager, subject, { id }));

  beforeAll(async () => {
    natsPort = await freePort();
    storeDir = mkdtempSync(join(tmpdir(), 'nats-js-probe-'));
    nats = await startNatsServer({ port: natsPort, storeDir });
    database = await createTestDatabase('messaging');
    const dbOptions = {
      url: database.url,
      entities: [],
      migrations: [CreateMessagingTables1764000000000],
      applicationName: 'probe',
    };
    await runMigrations(serviceDataSourceOptions(dbOptions));
    const config = loadConfig(baseConfigSchema, {
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: String(await freePort()),
      LOG_LEVEL: 'silent',
      DATABASE_URL: database.url,
      NATS_URL: nats.url,
    });

    @Module({
      imports: [
        PlatformModule.forRoot({ serviceName: 'orders', logLevel: 'silent' }),
        DatabaseModule.forRoot(dbOptions),
        MessagingModule.forRoot({
          serviceName: 'orders',
          url: nats.url,
          ownStreams: ['ORDERS'],
          consumers: [
            {
              stream: 'ORDERS',
              durable: 'probe',
              filterSubject: 'orders.>',
              maxDeliver: 3,
              ackWaitMs: 2000,
            },
          ],
          outboxPollMs: 50,
        }),
      ],
      controllers: [ProbeEventsController, ProbeHttpController],
    })
    class ProbeModule {}

    app = await createServiceApp({
      serviceName: 'orders',
      module: ProbeModule,
      config,
      openApi: { title: 'probe', description: 'probe' },
      quiet: true,
    });
    await app.startAllMicroservices();
    await app.listen({ port: config.PORT, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${config.PORT}`;
    dataSource = app.get(DataSource);
    outbox = app.get(OutboxService);
  }, 30_000);

  afterAll(async () => {
    await app?.close();
    await nats?.stop();
    await database?.drop();
    rmSync(storeDir, { recursive: true, force: true });
  });

  it('delivers an event committed with its change, once, carrying the request id', async () => {
    await runWithRequestContext({ requestId: 'req-outbox-1' }, () => enqueue('a1'));
    await eventually(() => seen.applied.includes('a1'));
    expect(seen.deliveries.filter((delivery) => delivery.id === 'a1')).toEqual([
      { id: 'a1', requestId: 'req-outbox-1', attempt: 1 },
    ]);
  });

  it('carries the request id of the HTTP request that wrote the event (JSON body parsed first)', async () => {
    const response = await fetch(`${baseUrl}/probe/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'req-http-1' },
      body: JSON.stringify({ id: 'h1' }),
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('x-request-id')).toBe('req-http-1');
    await eventually(() => seen.applied.includes('h1'));
    expect(seen.deliveries.filter((delivery) => delivery.id === 'h1')).toEqual([
      { id: 'h1', requestId: 'req-http-1', attempt: 1 },
    ]);
  });

  it('never publishes the event of a transaction that rolled back', async () => {
    await expect(
      dataSource.transaction(async (manager) => {
        await outbox.enqueue(manager, 'orders.created', { id: 'rolled-back' });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    await enqueue('after-rollback');
    await eventually(() => seen.applied.includes('after-rollback'));
    expect(seen.deliveries.map((delivery) => delivery.id)).not.toContain('rolled-back');
  });

  it('refuses to enqueue outside a transaction, so no event can escape its change', async () => {
    await expect(
      outbox.enqueue(dataSource.manager, 'orders.created', { id: 'loose' }),
    ).rejects.toThrow(TypeError);
  });

  it('refuses an event that could never be published, so it cannot hold back the ones after it', async () => {
    const pending = () =>
      dataSource.query('SELECT count(*)::int AS n FROM outbox_messages WHERE published_at IS NULL');
    for (const [subject, payload] of [
      ['users.deleted', { id: 'not-ours' }], // USERS is not a stream of this service
      ['orders.*', { id: 'wildcard' }],
      ['orders.created', { id: 'huge', blob: 'x'.repeat(300 * 1024) }],
    ] as const) {
      await expect(
        dataSource.transaction((manager) => outbox.enqueue(manager, subject, payload)),
      ).rejects.toThrow(TypeError);
    }
    expect((await pending())[0].n).toBe(0);
    await enqueue('after-refused');
    await eventually(() => seen.applied.includes('after-refused'));
  });

  it('applies a message once when the consumer fails after applying it and before the ack', async () => {
    seen.failFirstDeliveryAfterApply.add('c1');
    await enqueue('c1');
    await eventually(() => seen.deliveries.filter((delivery) => delivery.id === 'c1').length >= 2);
    expect(
      seen.deliveries.filter((delivery) => delivery.id === 'c1').map((d) => d.attempt),
    ).toEqual([1, 2]);
    expect(seen.applied.filter((id) => id === 'c1')).toEqual(['c1']);
  });

  it('dead-letters a message without Nats-Msg-Id, with bad JSON, or refused by its handler, and never redelivers it', async () => {
    const client = await connect({ servers: nats.url });
    const js = client.jetstream();
    await js.publish('orders.created', Buffer.from(JSON.stringify({ id: 'no-msg-id' })));
    await js.publish('orders.created', Buffer.from('{not json'), { msgID: 'bad-json-1' });
    const withToken = natsHeaders();
    withToken.set('Authorization', 'Bearer must-not-be-stored');
    await js.publish('orders.cancelled', Buffer.from(JSON.stringify({ reason: 'refuse' })), {
      msgID: 'refused-1',
      headers: withToken,
    });
    await client.close();

    const letters = dataSource.getRepository(DeadLetter);
    await eventually(async () => (await letters.count()) >= 3);
    const recorded = await letters.find({ order: { id: 'ASC' } });
    expect(
      recorded.map(({ messageId, errorCode, reason }) => ({ messageId, errorCode, reason })),
    ).toEqual([
      { messageId: null, errorCode: 'INVALID_ARGUMENT', reason: 'Nats-Msg-Id header is missing' },
      { messageId: 'bad-json-1', errorCode: 'INVALID_ARGUMENT', reason: 'payload is not JSON' },
      {
        messageId: 'refused-1',
        errorCode: 'PERMISSION_DENIED',
        reason: 'publisher may not send this',
      },
    ]);
    expect(JSON.stringify(recorded.map((letter) => letter.headers))).not.toContain(
      'must-not-be-stored',
    );
    // Terminated, not redelivered: the consumer has nothing pending or waiting for an ack.
    const observer = await connect({ servers: nats.url });
    const manager = await observer.jetstreamManager();
    await eventually(async () => {
      const info = await manager.consumers.info('ORDERS', 'probe');
      return info.num_ack_pending + info.num_pending === 0;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const info = await manager.consumers.info('ORDERS', 'probe');
    expect(info.num_ack_pending + info.num_pending + info.num_redelivered).toBe(0);
    expect(await letters.count()).toBe(3);
    await observer.close();
    expect(seen.deliveries.map((delivery) => delivery.id)).not.toContain('no-msg-id');
  });

  it('runs each message once behind a slow handler, though together they take longer than the ack wait', async () => {
    const client = await connect({ servers: nats.url });
    const js = client.jetstream();
    // 5 x 0.7 s against an ack wait of 2 s: messages waiting in the client behind the others
    // would be delivered again while they wait, and run twice.
    for (let i = 1; i <= 5; i++) {
      // The ORDERS stream exists once the service has started its transports.
      await eventually(() =>
        js.publish('orders.slow', Buffer.from('{}'), { msgID: `slow-${i}` }).then(
          () => true,
          () => undefined,
        ),
      );
    }
    await client.close();
    await eventually(() => seen.slow.length >= 5, 15_000);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(seen.slow).toEqual([1, 2, 3, 4, 5].map((i) => ({ id: `slow-${i}`, attempt: 1 })));
  }, 30_000);

  it('gives up on a handler that never answers, records it, and goes on with other messages', async () => {
    const client = await connect({ servers: nats.url });
    // The ORDERS stream exists once the service has started its transports.
    await eventually(() =>
      client
        .jetstream()
        .publish('orders.stuck', Buffer.from(JSON.stringify({})), { msgID: 'stuck-1' })
        .then(
          () => true,
          () => undefined,
        ),
    );
    await client.close();
    await enqueue('after-stuck');
    // Behind the stuck message, and delivered although it never returns.
    await eventually(() => seen.applied.includes('after-stuck'), 10_000);
    const letters = dataSource.getRepository(DeadLetter);
    const letter = await eventually(
      async () => (await letters.findOneBy({ messageId: 'stuck-1' })) ?? undefined,
      15_000,
    );
    expect(letter).toMatchObject({ errorCode: 'DEADLINE_EXCEEDED' });
    expect(letter.reason).toMatch(/^gave up after 3 deliveries/);
    // Its redeliveries waited for the run still going on: never two runs at once.
    expect(seen.stuckDeliveries).toBe(1);
  }, 30_000);

  it('redelivers a refused message until its dead letter is written, past the last delivery', async () => {
    // The database is away for the message's first four deliveries (maxDeliver is 3): with a
    // broker-side delivery limit it was never delivered again, neither applied nor recorded.
    const deadLetters = app.get(DeadLetterService);
    const record = deadLetters.record.bind(deadLetters);
    let refusedWrites = 0;
    const spy = jest.spyOn(deadLetters, 'record').mockImplementation(async (context, ...rest) => {
      if (context.getMessageId() === 'unrecorded-1' && refusedWrites < 4) {
        refusedWrites++;
        throw new Error('database away');
      }
      return record(context, ...rest);
    });
    try {
      const client = await connect({ servers: nats.url });
      await eventually(() =>
        client
          .jetstream()
          .publish('orders.cancelled', Buffer.from(JSON.stringify({ reason: 'refuse' })), {
            msgID: 'unrecorded-1',
          })
          .then(
            () => true,
            () => undefined,
          ),
      );
      await client.close();
      const letters = dataSource.getRepository(DeadLetter);
      const letter = await eventually(
        async () => (await letters.findOneBy({ messageId: 'unrecorded-1' })) ?? undefined,
        25_000,
      );
      expect(refusedWrites).toBe(4);
      expect(letter.reason).toMatch(/^gave up after 3 deliveries/);
      expect(await letters.countBy({ messageId: 'unrecorded-1' })).toBe(1);
    } finally {
      spy.mockRestore();
    }
  }, 40_000);

  it('keeps accepting writes while NATS is down and delivers them when it returns', async () => {
    await nats.stop();
    await eventually(async () => (await fetch(`${baseUrl}/health/ready`)).status === 503);
    await enqueue('offline-1');
    await enqueue('offline-2');
    const pending = await dataSource.query(
      'SELECT count(*)::int AS n FROM outbox_messages WHERE published_at IS NULL',
    );
    expect(pending[0].n).toBe(2);

    nats = await startNatsServer({ port: natsPort, storeDir });
    await eventually(
      () => seen.applied.includes('offline-1') && seen.applied.includes('offline-2'),
      20_000,
    );
    expect(seen.applied.indexOf('offline-1')).toBeLessThan(seen.applied.indexOf('offline-2'));
    await eventually(async () => (await fetch(`${baseUrl}/health/ready`)).status === 200);
  }, 40_000);
});
