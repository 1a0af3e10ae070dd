import { IDENTITY_VERSION_HEADER, JetStreamContext, SUBJECTS } from '@app/platform';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { IdentityRegisteredEvent } from './dto/identity-registered.event';
import { IdentityUpdatedEvent } from './dto/identity-updated.event';
import { UsersService, type IdentityEventSource } from './users.service';

const VERSION = /^[0-9]{1,18}$/;

function sourceOf(context: JetStreamContext): IdentityEventSource {
  // auth's version of the identity: the order the changes committed in. The broker's time
  // (microseconds) only for events published before auth versioned them: it is the order the
  // relays published in, which several replicas (or two racing admins) can invert.
  const version = context.getHeader(IDENTITY_VERSION_HEADER);
  return {
    // The transport refuses a message without Nats-Msg-Id before any handler runs.
    messageId: context.getMessageId()!,
    subject: context.getSubject(),
    version:
      version !== undefined && VERSION.test(version)
        ? version
        : String(Math.floor(context.message.info.timestampNanos / 1000)),
  };
}

/**
 * auth's identity events (durable consumer users-identity, auth.identity.>). The global guard
 * has checked each message's token (auth's client, events:publish, valid when stored) and the
 * ValidationPipe its payload; a refused message is dead-lettered by the transport.
 */
@Controller()
export class UsersEventsController {
  constructor(private readonly users: UsersService) {}

  @EventPattern(SUBJECTS.IDENTITY_REGISTERED)
  async onIdentityRegistered(
    @Payload() event: IdentityRegisteredEvent,
    @Ctx() context: JetStreamContext,
  ) {
    await this.users.createFromIdentity(sourceOf(context), event);
  }

  @EventPattern(SUBJECTS.IDENTITY_UPDATED)
  async onIdentityUpdated(
    @Payload() event: IdentityUpdatedEvent,
    @Ctx() context: JetStreamContext,
  ) {
    await this.users.applyIdentityUpdate(sourceOf(context), event);
  }
}
