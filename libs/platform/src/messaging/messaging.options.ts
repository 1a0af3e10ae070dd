import type { StreamName } from './messaging.constants';

/** A durable pull consumer this service reads (shared by all its replicas). */
export interface DurableConsumerOptions {
  stream: StreamName;
  durable: string;
  /** One subject filter (nats-server 2.9 has no multi-filter consumers). */
  filterSubject: string;
  /**
   * Deliveries before a message that keeps failing (not refused) is given up and dead-lettered.
   * Default {@link DEFAULT_MAX_DELIVER}: about 30 minutes of retries, so an outage of the
   * database or the issuer does not lose events.
   */
  maxDeliver?: number;
  /** How long a message may be processed before it is redelivered. Default 30 s. */
  ackWaitMs?: number;
}

export interface MessagingOptions {
  serviceName: string;
  url: string;
  user?: string;
  password?: string;
  /**
   * A PEM CA bundle to trust for a `tls://` url (Node's default CAs otherwise). A `tls://` url
   * always connects with TLS required; a `nats://` url connects in plaintext and takes no CA.
   */
  caFile?: string;
  /** Streams this service publishes to and therefore creates and owns. */
  ownStreams: StreamName[];
  /** Durable consumers this service processes messages from (handlers: `@EventPattern(subject)`). */
  consumers: DurableConsumerOptions[];
  /** How often the outbox relay looks for unpublished events. Default 250 ms. */
  outboxPollMs?: number;
}
