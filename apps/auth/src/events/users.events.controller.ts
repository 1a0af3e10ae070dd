import { InboxService, JetStreamContext, SUBJECTS } from '@app/platform';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { IdentitiesService } from '../identities/identities.service';
import { UserDeletedEvent } from './user-deleted.event';

/** Events auth consumes; EventTokenGuard has checked the publisher's token before these run. */
@Controller()
export class UsersEventsController {
  constructor(
    private readonly identities: IdentitiesService,
    private readonly inbox: InboxService,
  ) {}

  /** SPEC §5: a deleted user's tokens are revoked and their credentials deleted. */
  @EventPattern(SUBJECTS.USER_DELETED)
  async onUserDeleted(@Payload() event: UserDeletedEvent, @Ctx() context: JetStreamContext) {
    await this.inbox.processOnce(context.getMessageId()!, context.getSubject(), (manager) =>
      this.identities.delete(manager, event.userId),
    );
  }
}
