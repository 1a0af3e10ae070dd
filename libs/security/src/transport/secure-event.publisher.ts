import { currentRequestId, NatsConnectionService, REQUEST_ID_HEADER } from '@app/platform';
import { headers as natsHeaders, type PubAck } from 'nats';
import { EventsHeadersProvider } from './events-headers.provider';

/**
 * Publishes one event straight to JetStream with `Authorization: Bearer <service token>`,
 * the request id and a `Nats-Msg-Id`. Changes that must not lose their event go through the
 * outbox (`OutboxService.enqueue`), whose relay attaches the same headers.
 *
 * The message id is the caller's, and required: it names the event (the id of the change it
 * reports), so a publish retried after a lost acknowledgement carries the same id, and
 * JetStream's duplicate window and the consumers' inbox drop the second copy. An id made up
 * here would differ on the retry, and the event would be applied twice.
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
    options: { messageId: string; timeoutMs?: number },
  ): Promise<PubAck> {
    if (typeof options?.messageId !== 'string' || options.messageId.length === 0) {
      throw new TypeError('SecureEventPublisher.publish: options.messageId is required');
    }
    const headers = natsHeaders();
    const requestId = currentRequestId();
    if (requestId) headers.set(REQUEST_ID_HEADER, requestId);
    for (const [name, value] of Object.entries(await this.headersProvider.headersFor(subject))) {
      headers.set(name, value);
    }
    return this.nats.jetstream().publish(subject, Buffer.from(JSON.stringify(payload)), {
      msgID: options.messageId,
      headers,
      timeout: options.timeoutMs ?? 3000,
    });
  }
}
