import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { connect, type JetStreamClient, type JetStreamManager, type NatsConnection } from 'nats';
import { ApiError } from '../errors/api-error';
import { ReadinessService } from '../health/readiness.service';
import { MESSAGING_OPTIONS } from './messaging.constants';
import type { MessagingOptions } from './messaging.options';

/** First wait before connecting again after the broker refused the connection. */
const NATS_RETRY_MS = 1000;

function requiresTls(url: string): boolean {
  return url.startsWith('tls://');
}

/**
 * The service's one NATS connection. It connects in the background and reconnects forever,
 * so a service starts (and answers /health/ready with 503) while NATS is down, and recovers
 * by itself when NATS returns, also after the broker refused its credentials (a password
 * rotated on the broker before the service's secret). On shutdown the connection is drained
 * last, once the transports have stopped: in-flight messages get their ack, nothing new is taken.
 */
@Injectable()
export class NatsConnectionService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Nats');
  private connection: NatsConnection | null = null;
  private connected = false;
  private closing = false;
  private readonly waiters: {
    resolve: (connection: NatsConnection) => void;
    reject: (error: Error) => void;
  }[] = [];

  constructor(
    @Inject(MESSAGING_OPTIONS) private readonly options: MessagingOptions,
    private readonly readiness: ReadinessService,
  ) {
    if (options.caFile !== undefined && !requiresTls(options.url)) {
      throw new Error('a NATS CA file is only for a tls:// url');
    }
  }

  onModuleInit(): void {
    this.readiness.register('nats', () => this.ping());
    void this.connectInBackground();
  }

  private async connectInBackground(): Promise<void> {
    for (let attempt = 1; !this.closing; attempt++) {
      let connection: NatsConnection;
      try {
        connection = await connect({
          servers: this.options.url,
          user: this.options.user,
          pass: this.options.password,
          // nats.js ignores the url's scheme: without this a tls:// url would connect (and send
          // the password) in plaintext. With it, a broker that offers no TLS is refused before
          // anything is sent, and the broker's certificate must verify.
          tls: requiresTls(this.options.url) ? { caFile: this.options.caFile } : undefined,
          name: this.options.serviceName,
          // The broker lets each service subscribe to its own inbox prefix only (deploy/nats/permissions.conf).
          inboxPrefix: `_INBOX_${this.options.serviceName}`,
          waitOnFirstConnect: true,
          reconnect: true,
          maxReconnectAttempts: -1,
          // The wait between attempts, as nats.js's own (500 ms and a jitter). Once closing it
          // ends nats.js's dial loop instead: waitOnFirstConnect would keep a first connect to an
          // unreachable (or refused) broker going forever, after shutdown too.
          reconnectDelayHandler: () => {
            if (this.closing) throw new Error('NATS connection is closing');
            return 500 + Math.floor(Math.random() * 101);
          },
          pingInterval: 10_000,
        });
      } catch (error) {
        if (this.closing) return;
        // waitOnFirstConnect retries an unreachable broker itself; what reaches here is a refusal
        // (credentials, permissions, a bad URL). Retried too, slower: it may be fixed without a
        // restart of this service, and readiness says 503 meanwhile.
        this.logger.error(
          { error: (error as Error).message, attempt },
          'NATS connection failed; retrying',
        );
        await this.pause(Math.min(30_000, NATS_RETRY_MS * 2 ** Math.min(attempt - 1, 5)));
        continue;
      }
      if (this.closing) {
        await connection.close();
        return;
      }
      this.connection = connection;
      this.connected = true;
      this.logger.log('connected to NATS');
      void this.watchStatus(connection);
      for (const waiter of this.waiters.splice(0)) waiter.resolve(connection);
      // nats.js gives up for good after repeated authorization errors while reconnecting; the
      // service then connects anew rather than staying unready until restarted.
      await connection.closed();
      if (this.closing || this.connection !== connection) return;
      this.connection = null;
      this.connected = false;
      this.logger.error('NATS connection closed; connecting again');
      attempt = 0;
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms).unref());
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

  /** Resolves once connected (immediately when already connected); rejects once closing. */
  whenConnected(): Promise<NatsConnection> {
    if (this.connection) return Promise.resolve(this.connection);
    if (this.closing) return Promise.reject(new Error('NATS connection is closing'));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
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

  /**
   * After every `onModuleDestroy` and after Nest closed the transports (`dispose`): a message
   * handler still running when the app began to close must be able to ack on this connection.
   */
  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    // Loops waiting for a connection that will not come (NATS away at shutdown) end now.
    for (const waiter of this.waiters.splice(0)) {
      waiter.reject(new Error('NATS connection is closing'));
    }
    const connection = this.connection;
    this.connection = null;
    this.connected = false;
    if (connection && !connection.isClosed()) {
      await connection.drain().catch(() => connection.close());
    }
  }
}
