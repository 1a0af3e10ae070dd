import { keyInboxByMessageId, keyInboxByPublisher } from '@app/platform';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The inbox keyed by publisher and message id (libs/platform keyInboxByPublisher). */
export class InboxByPublisher1764921600000 implements MigrationInterface {
  name = 'InboxByPublisher1764921600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await keyInboxByPublisher(queryRunner);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await keyInboxByMessageId(queryRunner);
  }
}
