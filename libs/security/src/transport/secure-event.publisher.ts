import { currentRequestId, NatsConnectionService, REQUEST_ID_HEADER } from '@app/platform';
import { headers as natsHeaders, type PubAck } from 'nats';
import { randomUUID } from 'node:crypto';
import { EventsHeadersProvider } from './events-headers.provider';

/**
 * Publishes one event straight to JetStream with `Authorization: Bearer <service token>`,
 * the request id and a `Nats-Msg-Id`. Changes that must not lose their event go through the
 * outbox (`OutboxService.enqueue`), whose relay attaches the same headers.
 *
 * @example await publisher.publish('inventory.restocked', { sku }, { messageId: restock.id });
 */
export class SecureEventPublisher {
  constructor(
    private readonly nats: NatsConnectionService,
    private readonly headersProvider: EventsHeadersProvider,
  ) {}

  async publish(
    subject: string,
    payload: object,
    options: { messageId?: string; timeoutMs?: number } = {},
  ): Promise<PubAck> {
    const headers = natsHeaders();
    const requestId = currentRequestId();
    if (requestId) headers.set(REQUEST_ID_HEADER, requestId);
    for (const [name, value] of Object.entries(await this.headersProvider.headersFor(subject))) {
      headers.set(name, value);
    }
    return this.nats.jetstream().publish(subject, Buffer.from(JSON.stringify(payload)), {
      msgID: options.messageId ?? randomUUID(),
      headers,
      timeout: options.timeoutMs ?? 3000,
    });
  }
}
