import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

/**
 * Applies a message at most once. The message id is recorded in the same transaction as the
 * effect, so a consumer that crashes before its ack applies the redelivered message once.
 *
 * @example
 * await inbox.processOnce(context, async (manager) => { await manager.save(profile); });
 */
@Injectable()
export class InboxService {
  constructor(private readonly dataSource: DataSource) {}

  /** Runs `apply` unless `messageId` was applied before; returns whether it ran. */
  async processOnce(
    messageId: string,
    subject: string,
    apply: (manager: EntityManager) => Promise<void>,
  ): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const inserted: unknown[] = await manager.query(
        `INSERT INTO inbox_messages (message_id, subject) VALUES ($1, $2)
         ON CONFLICT (message_id) DO NOTHING RETURNING message_id`,
        [messageId, subject],
      );
      if (inserted.length === 0) return false;
      await apply(manager);
      return true;
    });
  }
}
