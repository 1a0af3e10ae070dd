import { keyInboxByMessageId, keyInboxBySubject } from '@app/platform';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The inbox is keyed by message id and subject: a publisher's ids cannot mask another's. */
export class InboxKeyedBySubject1765152000000 implements MigrationInterface {
  name = 'InboxKeyedBySubject1765152000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await keyInboxBySubject(queryRunner);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await keyInboxByMessageId(queryRunner);
  }
}
