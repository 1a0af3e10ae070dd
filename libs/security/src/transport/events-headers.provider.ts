import type { MessageHeadersProvider } from '@app/platform';
import { EVENTS_AUDIENCE, EVENTS_PUBLISH_SCOPE } from '../contract/access-token.claims';
import type { ServiceTokenClient } from '../token/service-token.client';

/**
 * `MESSAGE_HEADERS_PROVIDER` for the outbox relay: every outgoing event carries this
 * service's client-credentials token for audience `events`, scope `events:publish`
 * (SPEC §5). The request id is captured by the outbox at write time.
 */
export class EventsHeadersProvider implements MessageHeadersProvider {
  constructor(private readonly tokens: ServiceTokenClient) {}

  async headersFor(_subject: string): Promise<Record<string, string>> {
    const token = await this.tokens.getToken(EVENTS_AUDIENCE, EVENTS_PUBLISH_SCOPE);
    return { Authorization: `Bearer ${token}` };
  }
}
