import { JetStreamContext, SUBJECTS } from '@app/platform';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { UserDeletedEvent } from './dto/user-deleted.event';
import { OrdersService } from './orders.service';

/**
 * Events orders consumes. The global guard has already checked each message's token (valid
 * when stored, audience events, scope events:publish, published by `users` for users.*); a
 * refused or malformed message is dead-lettered by the transport and never reaches here.
 */
@Controller()
export class OrdersEventsController {
  constructor(private readonly orders: OrdersService) {}

  @EventPattern(SUBJECTS.USER_DELETED)
  async onUserDeleted(@Payload() event: UserDeletedEvent, @Ctx() context: JetStreamContext) {
    await this.orders.anonymizeCustomer(
      context.getMessageId()!,
      context.getSubject(),
      event.userId,
    );
  }
}
