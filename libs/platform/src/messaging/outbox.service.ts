import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { currentRequestId, REQUEST_ID_HEADER } from '../context/request-context';
import { OutboxMessage } from '../database/outbox-message.entity';
import { MESSAGING_OPTIONS, STREAMS } from './messaging.constants';
import type { MessagingOptions } from './messaging.options';
import { OutboxRelayService } from './outbox-relay.service';

/**
 * The largest event payload (its JSON) the outbox takes: a quarter of NATS's default
 * `max_payload` (1 MB), which must also hold the headers (the token among them).
 */
export const MAX_EVENT_PAYLOAD_BYTES = 256 * 1024;

/**
 * Records an event in the caller's transaction. It is published after commit by the relay;
 * if the transaction rolls back, the event never existed.
 *
 * @example
 * await dataSource.transaction(async (manager) => {
 *   await manager.save(order);
 *   await outbox.enqueue(manager, SUBJECTS.ORDER_CREATED, { orderId: order.id });
 * });
 */
@Injectable()
export class OutboxService {
  /** Subject prefixes of the streams this service owns (`orders.` for `orders.>`). */
  private readonly ownPrefixes: string[];

  constructor(
    private readonly relay: OutboxRelayService,
    @Inject(MESSAGING_OPTIONS) options: MessagingOptions,
  ) {
    this.ownPrefixes = options.ownStreams.flatMap((name) =>
      STREAMS[name].subjects.map((pattern) => pattern.slice(0, -1)),
    );
  }

  async enqueue(
    manager: EntityManager,
    subject: string,
    payload: object,
    extraHeaders: Record<string, string> = {},
  ): Promise<string> {
    if (!manager.queryRunner?.isTransactionActive) {
      throw new TypeError(
        'outbox.enqueue must run inside the transaction of the change it describes',
      );
    }
    // The relay publishes rows in order and stops at one that fails: a row that can never be
    // published (no stream of this service takes its subject, too large for NATS) would hold
    // back every later event. Such a row is a bug of the caller, refused here with its change.
    if (!this.ownPrefixes.some((prefix) => subject.startsWith(prefix)) || /[\s*>]/.test(subject)) {
      throw new TypeError(`outbox.enqueue: no stream of this service takes subject ${subject}`);
    }
    const size = Buffer.byteLength(JSON.stringify(payload));
    if (size > MAX_EVENT_PAYLOAD_BYTES) {
      throw new TypeError(
        `outbox.enqueue: a ${subject} payload of ${size} bytes is over ${MAX_EVENT_PAYLOAD_BYTES}`,
      );
    }
    const id = randomUUID();
    const headers: Record<string, string> = { ...extraHeaders };
    const requestId = currentRequestId();
    if (requestId) headers[REQUEST_ID_HEADER] = requestId;
    await manager.insert(OutboxMessage, { id, subject, payload, headers });
    // Most transactions commit within a few milliseconds: look again soon instead of at the next poll.
    this.relay.kickSoon();
    return id;
  }
}
