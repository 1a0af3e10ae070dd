import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
  Optional,
} from '@nestjs/common';
import { headers as natsHeaders } from 'nats';
import { DataSource } from 'typeorm';
import { MetricsService } from '../metrics/metrics.service';
import { MESSAGE_HEADERS_PROVIDER, MESSAGING_OPTIONS } from './messaging.constants';
import type { MessageHeadersProvider } from './message-headers.provider';
import type { MessagingOptions } from './messaging.options';
import { NatsConnectionService } from './nats-connection.service';
import { StreamsService } from './streams.service';

interface PendingRow {
  id: string;
  subject: string;
  payload: unknown;
  headers: Record<string, string>;
}

const BATCH_SIZE = 100;
const PUBLISH_TIMEOUT_MS = 3000;

/**
 * Publishes outbox rows to JetStream, with `Nats-Msg-Id` = row id, in `created_at` order within
 * one relay. That is not the order the changes committed in (a transaction that began first can
 * commit last), and with several replicas a later batch can go out while an earlier one is still
 * being published: consumers that need the latest state compare a version the publisher set
 * under its row lock (auth's identity events carry one), never the broker's order.
 *
 * Replicas never publish one row twice: each batch is claimed with `FOR UPDATE SKIP LOCKED`
 * and marked published in the same transaction. If a relay dies after publishing but before
 * commit, the row is published again and JetStream drops it as a duplicate within its
 * duplicate window. While NATS is down rows wait; the relay drains them when it returns.
 */
@Injectable()
export class OutboxRelayService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('OutboxRelay');
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private readonly published;

  constructor(
    @Inject(MESSAGING_OPTIONS) private readonly options: MessagingOptions,
    private readonly dataSource: DataSource,
    private readonly nats: NatsConnectionService,
    private readonly streams: StreamsService,
    metrics: MetricsService,
    @Optional()
    @Inject(MESSAGE_HEADERS_PROVIDER)
    private readonly headersProvider?: MessageHeadersProvider,
  ) {
    this.published = metrics.counter('outbox_published_total', 'Events relayed from the outbox', [
      'subject',
    ]);
  }

  onApplicationBootstrap(): void {
    this.schedule(0);
  }

  /** Asks for a pass shortly, e.g. after a transaction that wrote an event. */
  kickSoon(): void {
    this.schedule(20);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.pass(), delayMs);
    this.timer.unref();
  }

  private async pass(): Promise<void> {
    this.timer = null;
    this.running = this.relayPending()
      .then(() => undefined)
      .catch((error) =>
        this.logger.warn({ error: (error as Error).message }, 'outbox relay pass failed'),
      )
      .finally(() => {
        this.running = null;
        const next = this.again ? 0 : (this.options.outboxPollMs ?? 250);
        this.again = false;
        this.schedule(next);
      });
    await this.running;
  }

  /** Publishes what is pending; returns the number of rows published. */
  async relayPending(): Promise<number> {
    if (!this.nats.isConnected) return 0;
    await this.streams.ensureOwnStreams();
    let total = 0;
    for (;;) {
      const count = await this.relayBatch();
      total += count;
      if (count < BATCH_SIZE || this.stopped) return total;
    }
  }

  private relayBatch(): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const rows: PendingRow[] = await manager.query(
        `SELECT id, subject, payload, headers FROM outbox_messages
          WHERE published_at IS NULL ORDER BY created_at, id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [BATCH_SIZE],
      );
      const done: string[] = [];
      const js = this.nats.jetstream();
      try {
        for (const row of rows) {
          const headers = natsHeaders();
          for (const [name, value] of Object.entries(row.headers ?? {})) headers.set(name, value);
          const extra = (await this.headersProvider?.headersFor(row.subject)) ?? {};
          for (const [name, value] of Object.entries(extra)) headers.set(name, value);
          await js.publish(row.subject, Buffer.from(JSON.stringify(row.payload)), {
            msgID: row.id,
            headers,
            timeout: PUBLISH_TIMEOUT_MS,
          });
          done.push(row.id);
          this.published.inc({ subject: row.subject });
        }
      } catch (error) {
        // Keep order: stop at the first failure, commit what went out, retry the rest later.
        this.logger.warn(
          { error: (error as Error).message, pending: rows.length - done.length },
          'publish failed',
        );
        if (rows.length > done.length) {
          await manager.query('UPDATE outbox_messages SET attempts = attempts + 1 WHERE id = $1', [
            rows[done.length].id,
          ]);
        }
      }
      if (done.length > 0) {
        await manager.query(
          'UPDATE outbox_messages SET published_at = now() WHERE id = ANY($1::uuid[])',
          [done],
        );
      }
      return done.length === rows.length ? rows.length : 0;
    });
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
