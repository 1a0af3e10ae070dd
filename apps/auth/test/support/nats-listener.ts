import { connect, type NatsConnection } from 'nats';
import { eventually } from '../../../../test/support/eventually';

export interface ReceivedMessage {
  subject: string;
  payload: Record<string, unknown>;
  authorization: string | undefined;
  identityVersion: string | undefined;
}

/**
 * Records every message auth publishes under `auth.>` (what a resource server would receive),
 * from the moment `start` resolves. `waitFor` resolves with the first recorded message matching.
 */
export class AuthEventsListener {
  readonly received: ReceivedMessage[] = [];

  private constructor(private readonly nc: NatsConnection) {}

  static async start(natsUrl: string): Promise<AuthEventsListener> {
    const nc = await connect({ servers: natsUrl });
    const listener = new AuthEventsListener(nc);
    const sub = nc.subscribe('auth.>');
    void (async () => {
      for await (const message of sub) {
        listener.received.push({
          subject: message.subject,
          payload: message.json<Record<string, unknown>>(),
          authorization: message.headers?.get('Authorization') || undefined,
          identityVersion: message.headers?.get('Identity-Version') || undefined,
        });
      }
    })();
    // The server has registered the subscription once the flush round trip returns.
    await nc.flush();
    return listener;
  }

  async waitFor(
    subject: string,
    match: (payload: Record<string, unknown>) => boolean,
    timeoutMs = 10_000,
  ): Promise<ReceivedMessage> {
    let found: ReceivedMessage | undefined;
    await eventually(async () => {
      found = this.received.find((m) => m.subject === subject && match(m.payload));
      return found !== undefined;
    }, timeoutMs);
    return found!;
  }

  async close(): Promise<void> {
    await this.nc.close();
  }
}

export { eventually };
