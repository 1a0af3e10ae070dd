import { DynamicModule, Module } from '@nestjs/common';
import { DeadLetterService } from './dead-letter.service';
import { InboxService } from './inbox.service';
import { MESSAGING_OPTIONS } from './messaging.constants';
import type { MessagingOptions } from './messaging.options';
import { NatsConnectionService } from './nats-connection.service';
import { OutboxRelayService } from './outbox-relay.service';
import { OutboxService } from './outbox.service';
import { StreamsService } from './streams.service';

const SERVICES = [
  NatsConnectionService,
  StreamsService,
  OutboxService,
  OutboxRelayService,
  InboxService,
  DeadLetterService,
];

/**
 * NATS JetStream for one service: connection, own streams, outbox relay, inbox de-duplication
 * and dead letters. Handlers are `@EventPattern(subject)` methods fed by `JetStreamServer`.
 */
@Module({})
export class MessagingModule {
  static forRoot(options: MessagingOptions): DynamicModule {
    if (!options.serviceName) throw new TypeError('MessagingModule: serviceName is required');
    if (!options.url) throw new TypeError('MessagingModule: url is required');
    return {
      module: MessagingModule,
      global: true,
      providers: [{ provide: MESSAGING_OPTIONS, useValue: options }, ...SERVICES],
      exports: [MESSAGING_OPTIONS, ...SERVICES],
    };
  }
}
