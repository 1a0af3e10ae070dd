import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { connect, type JetStreamClient, type JetStreamManager, type NatsConnection } from 'nats';
import { ApiError } from '../errors/api-error';
import { ReadinessService } from '../health/readiness.service';
import { MESSAGING_OPTIONS } from './messaging.constants';
import type { MessagingOptions } from './messaging.options';

/**
 * The service's one NATS connection. It connects in the background and reconnects forever,
 * so a service starts (and answers /health/ready with 503) while NATS is down, and recovers
 * by itself when NATS returns. On shutdown the connection is drained: in-flight messages
 * finish, nothing new is taken.
 */
@Injectable()
export class NatsConnectionService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Nats');
  private connection: NatsConnection | null = null;
  private connected = false;
  private closing = false;
  private readonly waiters: ((connection: NatsConnection) => void)[] = [];

  constructor(
    @Inject(MESSAGING_OPTIONS) private readonly options: MessagingOptions,
    private readonly readiness: ReadinessService,
  ) {}

  onModuleInit(): void {
    this.readiness.register('nats', () => this.ping());
    void this.connectInBackground();
  }

  private async connectInBackground(): Promise<void> {
    try {
      const connection = await connect({
        servers: this.options.url,
        user: this.options.user,
        pass: this.options.password,
        name: this.options.serviceName,
        // The broker lets each service subscribe to its own inbox prefix only (deploy/nats/permissions.conf).
        inboxPrefix: `_INBOX_${this.options.serviceName}`,
        waitOnFirstConnect: true,
        reconnect: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
        pingInterval: 10_000,
      });
      if (this.closing) {
        await connection.close();
        return;
      }
      this.connection = connection;
      this.connected = true;
      this.logger.log('connected to NATS');
      void this.watchStatus(connection);
      for (const waiter of this.waiters.splice(0)) waiter(connection);
    } catch (error) {
      // Only a permanent error (bad credentials, bad URL) reaches here: waitOnFirstConnect retries the rest.
      this.logger.error({ error: (error as Error).message }, 'NATS connection failed');
    }
  }

  private async watchStatus(connection: NatsConnection): Promise<void> {
    for await (const status of connection.status()) {
      if (status.type === 'disconnect') {
        this.connected = false;
        this.logger.warn('disconnected from NATS');
      } else if (status.type === 'reconnect') {
        this.connected = true;
        this.logger.log('reconnected to NATS');
      }
    }
  }

  /** Resolves once connected (immediately when already connected). */
  whenConnected(): Promise<NatsConnection> {
    if (this.connection) return Promise.resolve(this.connection);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The connection, or a 503 when NATS has not been reached yet. */
  get current(): NatsConnection {
    if (!this.connection || !this.connected) throw new ApiError(503, 'messaging unavailable');
    return this.connection;
  }

  get isConnected(): boolean {
    return this.connected && this.connection !== null && !this.connection.isClosed();
  }

  jetstream(): JetStreamClient {
    return this.current.jetstream();
  }

  jetstreamManager(): Promise<JetStreamManager> {
    return this.current.jetstreamManager();
  }

  private async ping(): Promise<void> {
    if (!this.isConnected) throw new Error('not connected');
    await this.connection!.flush();
  }

  async onModuleDestroy(): Promise<void> {
    this.closing = true;
    const connection = this.connection;
    this.connection = null;
    this.connected = false;
    if (connection && !connection.isClosed()) {
      await connection.drain().catch(() => connection.close());
    }
  }
}
