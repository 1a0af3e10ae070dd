import {
  AUTH_STREAM_MAX_AGE_MS,
  JetStreamContext,
  NatsConnectionService,
  ReadinessService,
  STREAMS,
  SUBJECTS,
} from '@app/platform';
import { Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DeliverPolicy, type ConsumerMessages, type JsMsg } from 'nats';
import {
  EVENTS_AUDIENCE,
  EVENTS_PUBLISH_SCOPE,
  publisherOf,
} from '../contract/access-token.claims';
import { SecurityError } from '../security.error';
import {
  parseRevocationEvent,
  REVOCATION_RETENTION_SECONDS,
  RevocationList,
} from '../token/revocation-list';
import type { TokenVerifier } from '../token/token-verifier';
import { messageBearerToken } from './transport-of';

/** One subject followed from a start time back: its own ordered consumer and progress. */
interface Feed {
  readonly subject: string;
  /** How far back a starting replica reads. */
  readonly replaySeconds: number;
  /** Stream sequence of the last applied message: a resumed consumer continues after it. */
  lastSequence: number;
  /** Whether the messages of the replay window have all been applied. */
  replayed: boolean;
  messages: ConsumerMessages | null;
}

/**
 * Feeds this replica's deny-list from auth's revocations. Every replica must see every
 * revocation, so each reads with its own ephemeral ordered consumers (not a shared durable),
 * and a restarted replica rebuilds its list by replaying: `auth.revocations` 15 min +
 * tolerance back (every token a revocation there covers has expired by then), and
 * `auth.revocations.stored` (the few revocations that may cover a token signing NATS
 * messages, which auth publishes on both) all that AUTH keeps (AUTH_STREAM_MAX_AGE_MS). Each
 * message is authenticated like any event: a token valid when stored, audience events, scope
 * events:publish, published by `auth`.
 */
export class RevocationListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Revocations');
  private stopped = false;
  private running: Promise<void>[] = [];
  private readonly feeds: Feed[] = [
    { subject: SUBJECTS.REVOCATIONS, replaySeconds: REVOCATION_RETENTION_SECONDS },
    {
      subject: SUBJECTS.STORED_REVOCATIONS,
      // All that AUTH keeps: more than the deny-list keeps these entries.
      replaySeconds: AUTH_STREAM_MAX_AGE_MS / 1000,
    },
  ].map((feed) => ({ ...feed, lastSequence: 0, replayed: false, messages: null }));

  constructor(
    private readonly nats: NatsConnectionService,
    private readonly verifier: TokenVerifier,
    private readonly revocations: RevocationList,
    private readonly readiness?: ReadinessService,
  ) {}

  onApplicationBootstrap(): void {
    // Until every replay window is applied this replica is not ready: it would accept tokens
    // revoked in the last 15 minutes (or, on NATS, messages of a revoked publisher).
    this.readiness?.register('revocations', async () => {
      const behind = this.feeds.filter((feed) => !feed.replayed).map((feed) => feed.subject);
      if (behind.length > 0) throw new Error(`revocations not replayed yet: ${behind.join(', ')}`);
    });
    this.running = this.feeds.map((feed) => this.follow(feed));
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    for (const feed of this.feeds) feed.messages?.stop();
    await Promise.all(this.running);
  }

  private async follow(feed: Feed): Promise<void> {
    while (!this.stopped) {
      try {
        await this.nats.whenConnected();
        if (this.stopped) return;
        const startAt = new Date(Date.now() - feed.replaySeconds * 1000);
        const consumer = await this.nats.jetstream().consumers.get(STREAMS.AUTH.name, {
          filterSubjects: feed.subject,
          ...(feed.lastSequence > 0
            ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: feed.lastSequence + 1 }
            : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: startAt.toISOString() }),
        });
        feed.messages = await consumer.consume();
        this.logger.log(`following ${feed.subject}`);
        // What the consumer had to deliver when it was created; each message then tells how
        // many are still pending after it.
        if ((await consumer.info(true)).num_pending === 0) this.markReplayed(feed);
        for await (const message of feed.messages) {
          await this.apply(message);
          feed.lastSequence = message.seq;
          if (message.info.pending === 0) this.markReplayed(feed);
          if (this.stopped) break;
        }
      } catch (error) {
        feed.messages?.stop();
        if (this.stopped) return;
        // Typically the AUTH stream does not exist yet (auth has not started): try again soon.
        this.logger.warn(
          { subject: feed.subject, error: (error as Error).message },
          'revocations not followed yet',
        );
      }
      if (!this.stopped) await new Promise((resolve) => setTimeout(resolve, 1000).unref());
    }
  }

  private markReplayed(feed: Feed): void {
    if (feed.replayed) return;
    feed.replayed = true;
    this.logger.log(`${feed.subject} replayed`);
  }

  /**
   * Applies one message; a message that fails authentication or validation is ignored and
   * logged. One that cannot be checked yet (the issuer's keys are unreachable) throws: `run`
   * then reads again from that message instead of skipping a revocation for good.
   */
  async apply(message: JsMsg): Promise<boolean> {
    const context = new JetStreamContext(message);
    try {
      const token = messageBearerToken(context);
      if (!token) throw new SecurityError('TOKEN_MISSING', 'no Authorization header');
      const { principal } = await this.verifier.verify(token, {
        audience: EVENTS_AUDIENCE,
        currentDate: context.getStoredAt(),
        // A replica starting after a rotation replays revocations auth signed with the old key.
        allowRetiredKeys: true,
      });
      if (
        principal.kind !== 'service' ||
        !principal.scopes.includes(EVENTS_PUBLISH_SCOPE) ||
        publisherOf(message.subject) !== principal.clientId
      ) {
        throw new SecurityError('PUBLISHER_NOT_ALLOWED', 'revocations come from auth only');
      }
      const event = parseRevocationEvent(JSON.parse(Buffer.from(message.data).toString('utf8')));
      if (!event) throw new SecurityError('FORBIDDEN', 'not a revocation event');
      this.revocations.add(event);
      return true;
    } catch (error) {
      const deferred = error instanceof SecurityError && error.kind === 'unavailable';
      this.logger.warn(
        {
          code: (error as SecurityError).code ?? 'INVALID',
          seq: message.seq,
          messageId: context.getMessageId(),
        },
        deferred
          ? 'revocation message not checked yet; read again soon'
          : 'revocation message refused',
      );
      if (deferred) throw error;
      return false;
    }
  }
}
