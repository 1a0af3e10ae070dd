import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { currentRequestId, REQUEST_ID_HEADER } from '../context/request-context';
import { OutboxMessage } from '../database/outbox-message.entity';
import { OutboxRelayService } from './outbox-relay.service';

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
  constructor(private readonly relay: OutboxRelayService) {}

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
