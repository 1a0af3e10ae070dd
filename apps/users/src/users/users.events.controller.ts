import { JetStreamContext, SUBJECTS } from '@app/platform';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { IdentityRegisteredEvent } from './dto/identity-registered.event';
import { UsersService } from './users.service';

@Controller()
export class UsersEventsController {
  constructor(private readonly users: UsersService) {}

  @EventPattern(SUBJECTS.IDENTITY_REGISTERED)
  async onIdentityRegistered(
    @Payload() event: IdentityRegisteredEvent,
    @Ctx() context: JetStreamContext,
  ) {
    await this.users.createFromIdentity(context.getMessageId()!, context.getSubject(), event);
  }
}
