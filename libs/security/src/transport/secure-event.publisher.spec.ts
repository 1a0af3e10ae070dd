import type { NatsConnectionService } from '@app/platform';
import type { EventsHeadersProvider } from './events-headers.provider';
import { SecureEventPublisher } from './secure-event.publisher';

describe('SecureEventPublisher', () => {
  const published: { subject: string; msgID?: string; authorization?: string }[] = [];
  const nats = {
    jetstream: () => ({
      publish: async (
        subject: string,
        _data: Uint8Array,
        options: { msgID?: string; headers?: { get(name: string): string } },
      ) => {
        published.push({
          subject,
          msgID: options.msgID,
          authorization: options.headers?.get('Authorization'),
        });
        return { seq: published.length, duplicate: false };
      },
    }),
  } as unknown as NatsConnectionService;
  const headers = {
    headersFor: async () => ({ Authorization: 'Bearer service-token' }),
  } as unknown as EventsHeadersProvider;
  const publisher = new SecureEventPublisher(nats, headers);

  beforeEach(() => (published.length = 0));

  it("publishes with the caller's message id, so a retried publish is the same message", async () => {
    await publisher.publish('inventory.restocked', { sku: 'a' }, { messageId: 'restock-1' });
    await publisher.publish('inventory.restocked', { sku: 'a' }, { messageId: 'restock-1' });
    expect(published).toEqual([
      { subject: 'inventory.restocked', msgID: 'restock-1', authorization: 'Bearer service-token' },
      { subject: 'inventory.restocked', msgID: 'restock-1', authorization: 'Bearer service-token' },
    ]);
  });

  it.each([undefined, {}, { messageId: '' }])(
    'refuses to publish without a message id (%p): one made up would differ on a retry',
    async (options) => {
      await expect(publisher.publish('inventory.restocked', {}, options as never)).rejects.toThrow(
        /messageId is required/,
      );
      expect(published).toEqual([]);
    },
  );
});
