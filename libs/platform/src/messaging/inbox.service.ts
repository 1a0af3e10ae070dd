import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

/**
 * Applies a message at most once. Its id and subject are recorded in the same transaction as
 * the effect, so a consumer that crashes before its ack applies the redelivered message once.
 * The subject is part of the key: publishers choose their message ids, and one publisher's ids
 * must not make this service skip another publisher's messages (see `keyInboxBySubject`).
 *
 * @example
 * await inbox.processOnce(context, async (manager) => { await manager.save(profile); });
 */
@Injectable()
export class InboxService {
  constructor(private readonly dataSource: DataSource) {}

  /** Runs `apply` unless message `messageId` of `subject` was applied before; whether it ran. */
  async processOnce(
    messageId: string,
    subject: string,
    apply: (manager: EntityManager) => Promise<void>,
  ): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const inserted: unknown[] = await manager.query(
        `INSERT INTO inbox_messages (message_id, subject) VALUES ($1, $2)
         ON CONFLICT (message_id, subject) DO NOTHING RETURNING message_id`,
        [messageId, subject],
      );
      if (inserted.length === 0) return false;
      await apply(manager);
      return true;
    });
  }
}
