import { BaseRpcContext } from '@nestjs/microservices';
import { Match, type JsMsg } from 'nats';

/**
 * What a JetStream handler (and a guard in front of it) can see of the message. Passed as the
 * second argument of `@EventPattern` handlers and available via `host.switchToRpc().getContext()`.
 */
export class JetStreamContext extends BaseRpcContext<[JsMsg]> {
  constructor(message: JsMsg) {
    super([message]);
  }

  get message(): JsMsg {
    return this.args[0];
  }

  getSubject(): string {
    return this.message.subject;
  }

  /** Every value of a header, in order, whatever the case of its name (NATS headers repeat). */
  getHeaderValues(name: string): string[] {
    return this.message.headers?.values(name, Match.IgnoreCase) ?? [];
  }

  /** A header value, or undefined. Header names are case-insensitive. */
  getHeader(name: string): string | undefined {
    const headers = this.message.headers;
    if (!headers) return undefined;
    const value = headers.get(name) || headers.get(name.toLowerCase());
    return value === '' ? undefined : value;
  }

  /** The publisher's de-duplication id: the outbox row id. */
  getMessageId(): string | undefined {
    return this.getHeader('Nats-Msg-Id');
  }

  /** When the broker stored the message: tokens are checked against this time, not now. */
  getStoredAt(): Date {
    return new Date(Math.floor(this.message.info.timestampNanos / 1e6));
  }

  getDeliveryCount(): number {
    return this.message.info.deliveryCount;
  }
}
