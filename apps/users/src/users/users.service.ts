import {
  ApiError,
  decodeKeysetCursor,
  encodeKeysetCursor,
  InboxService,
  OutboxService,
  SUBJECTS,
} from '@app/platform';
import { accessibleBy, type AppAbility } from '@app/security';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import type { IdentityRegisteredEvent } from './dto/identity-registered.event';
import type { IdentityUpdatedEvent } from './dto/identity-updated.event';
import type { UpdateProfileDto } from './dto/update-profile.dto';
import { UserProfile } from './user-profile.entity';

/** Where an identity event came from: its message id, subject and broker storage time. */
export interface IdentityEventSource {
  messageId: string;
  subject: string;
  /** µs since the epoch at which JetStream stored the message. */
  version: string;
}

export interface ProfilePage {
  items: UserProfile[];
  nextCursor: string | null;
}

@Injectable()
export class UsersService {
  constructor(
    @InjectRepository(UserProfile) private readonly profiles: Repository<UserProfile>,
    private readonly dataSource: DataSource,
    private readonly inbox: InboxService,
    private readonly outbox: OutboxService,
  ) {}

  /** Creates the profile of a newly registered identity, once per message. */
  async createFromIdentity(source: IdentityEventSource, event: IdentityRegisteredEvent) {
    await this.inbox.processOnce(source.messageId, source.subject, async (manager) => {
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
          identityVersion: source.version,
        })
        .orIgnore()
        .execute();
    });
  }

  /**
   * Copies auth's identity (email, roles, region, disabled) onto the profile, once per message.
   * An event older than the one last applied (a redelivery overtaken by a newer update) changes
   * nothing. An update for a profile that does not exist yet is retried (its registration may
   * still be on its way) and dead-lettered by the transport after the last delivery: it never
   * creates a profile, so a late update cannot resurrect a deleted account.
   */
  async applyIdentityUpdate(source: IdentityEventSource, event: IdentityUpdatedEvent) {
    await this.inbox.processOnce(source.messageId, source.subject, async (manager) => {
      const result = await manager
        .createQueryBuilder()
        .update(UserProfile)
        .set({
          email: event.email,
          roles: event.roles,
          region: event.region,
          disabled: event.disabled,
          identityVersion: source.version,
        })
        .where('id = :id', { id: event.id })
        .andWhere('identity_version < :version', { version: source.version })
        .execute();
      if (result.affected) return;
      if (!(await manager.existsBy(UserProfile, { id: event.id }))) {
        // 503: transient for the transport (redelivered with back-off), and it rolls back the
        // inbox row, so the redelivery is applied.
        throw new ApiError(503, `no profile for identity ${event.id} yet`);
      }
    });
  }

  findById(id: string): Promise<UserProfile | null> {
    return this.profiles.findOneBy({ id });
  }

  /** Writes the permitted changes; the caller has checked the fields against the policy. */
  async updateProfile(id: string, changes: UpdateProfileDto): Promise<UserProfile | null> {
    const values: Partial<UserProfile> = {};
    if (changes.displayName !== undefined) values.displayName = changes.displayName;
    if (changes.locale !== undefined) values.locale = changes.locale;
    if (Object.keys(values).length > 0) await this.profiles.update({ id }, values);
    return this.findById(id);
  }

  /**
   * One page of the profiles `ability` may read, in `created_at, id` order. The filter is SQL
   * (accessibleBy), so a page is full whenever more permitted rows exist and rows the caller
   * may not read are never loaded.
   */
  async list(ability: AppAbility, limit: number, cursor?: string): Promise<ProfilePage> {
    const qb = this.profiles.createQueryBuilder('profile');
    if (cursor) {
      // The 400 message GET /users has always given; clients may match on it, so it stays.
      const after = decodeKeysetCursor(cursor, { message: 'cursor is invalid' });
      qb.where('(profile.created_at, profile.id) > (:afterCreatedAt, :afterId)', {
        afterCreatedAt: after.at,
        afterId: after.id,
      });
    }
    const rows = await accessibleBy(qb, ability, 'read', 'User')
      .orderBy('profile.created_at', 'ASC')
      .addOrderBy('profile.id', 'ASC')
      .limit(limit + 1)
      .getMany();
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return {
      items,
      nextCursor:
        rows.length > limit && last
          ? encodeKeysetCursor({ at: last.createdAt, id: last.id })
          : null,
    };
  }

  /**
   * Deletes the profile and records `users.deleted` in the same transaction: both happen or
   * neither. Returns false when there was no profile (deleted concurrently): no event then.
   */
  async deleteProfile(id: string): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const result = await manager.delete(UserProfile, { id });
      if (!result.affected) return false;
      // auth (revoke, delete credentials) and orders (anonymize) consume exactly this shape.
      await this.outbox.enqueue(manager, SUBJECTS.USER_DELETED, { userId: id });
      return true;
    });
  }
}
