import { createMessagingTables, dropMessagingTables } from '@app/platform';
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Initial1764057600000 implements MigrationInterface {
  name = 'Initial1764057600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createMessagingTables(queryRunner);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await dropMessagingTables(queryRunner);
  }
}
