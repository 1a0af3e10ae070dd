import { InboxService } from '@app/platform';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import type { IdentityRegisteredEvent } from './dto/identity-registered.event';
import { UserProfile } from './user-profile.entity';

@Injectable()
export class UsersService {
  constructor(
    @InjectRepository(UserProfile) private readonly profiles: Repository<UserProfile>,
    private readonly inbox: InboxService,
  ) {}

  /** Creates the profile of a newly registered identity, once per message. */
  async createFromIdentity(
    messageId: string,
    subject: string,
    event: IdentityRegisteredEvent,
  ): Promise<void> {
    await this.inbox.processOnce(messageId, subject, async (manager) => {
      await manager
        .createQueryBuilder()
        .insert()
        .into(UserProfile)
        .values({
          id: event.id,
          email: event.email,
          displayName: event.displayName,
          region: event.region,
          roles: event.roles,
        })
        .orIgnore()
        .execute();
    });
  }

  findById(id: string): Promise<UserProfile | null> {
    return this.profiles.findOneBy({ id });
  }
}
