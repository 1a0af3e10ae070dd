import {
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

/**
 * Feeds this replica's deny-list from `auth.revocations`. Every replica must see every
 * revocation, so each reads with its own ephemeral ordered consumer (not a shared durable),
 * starting 15 min + tolerance back so a restarted replica rebuilds its list. Each message is
 * authenticated like any event: a token valid when stored, audience events, scope
 * events:publish, published by `auth`.
 */
export class RevocationListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Revocations');
  private messages: ConsumerMessages | null = null;
  private stopped = false;
  private running: Promise<void> | null = null;
  /** Stream sequence of the last applied message: a resumed consumer continues after it. */
  private lastSequence = 0;
  /**
   * Whether the revocations of the replay window have all been applied: until then this
   * replica is not ready, since it would accept tokens revoked in the last 15 minutes.
   */
  private replayed = false;

  constructor(
    private readonly nats: NatsConnectionService,
    private readonly verifier: TokenVerifier,
    private readonly revocations: RevocationList,
    private readonly readiness?: ReadinessService,
  ) {}

  onApplicationBootstrap(): void {
    this.readiness?.register('revocations', async () => {
      if (!this.replayed) throw new Error('revocations of the last 15 minutes not replayed yet');
    });
    this.running = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.messages?.stop();
    await this.running;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.nats.whenConnected();
        if (this.stopped) return;
        const startAt = new Date(Date.now() - REVOCATION_RETENTION_SECONDS * 1000);
        const consumer = await this.nats.jetstream().consumers.get(STREAMS.AUTH.name, {
          filterSubjects: SUBJECTS.REVOCATIONS,
          ...(this.lastSequence > 0
            ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: this.lastSequence + 1 }
            : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: startAt.toISOString() }),
        });
        this.messages = await consumer.consume();
        this.logger.log('following auth.revocations');
        // What the consumer had to deliver when it was created; each message then tells how
        // many are still pending after it.
        if ((await consumer.info(true)).num_pending === 0) this.markReplayed();
        for await (const message of this.messages) {
          await this.apply(message);
          this.lastSequence = message.seq;
          if (message.info.pending === 0) this.markReplayed();
          if (this.stopped) break;
        }
      } catch (error) {
        this.messages?.stop();
        if (this.stopped) return;
        // Typically the AUTH stream does not exist yet (auth has not started): try again soon.
        this.logger.warn({ error: (error as Error).message }, 'revocations not followed yet');
      }
      if (!this.stopped) await new Promise((resolve) => setTimeout(resolve, 1000).unref());
    }
  }

  private markReplayed(): void {
    if (this.replayed) return;
    this.replayed = true;
    this.logger.log('revocations of the last 15 minutes replayed');
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
