import { createMessagingTablesV1, dropMessagingTables } from '@app/platform';
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Initial1764057600000 implements MigrationInterface {
  name = 'Initial1764057600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createMessagingTablesV1(queryRunner);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await dropMessagingTables(queryRunner);
  }
}
