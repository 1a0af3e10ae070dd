import { createMessagingTablesV1, dropMessagingTables } from '@app/platform';
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Initial1764057600000 implements MigrationInterface {
  name = 'Initial1764057600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createMessagingTablesV1(queryRunner);
    await queryRunner.query(`
      CREATE TABLE identities (
        id uuid PRIMARY KEY,
        email text NOT NULL UNIQUE,
        password_hash text NOT NULL,
        roles text[] NOT NULL DEFAULT '{customer}',
        region text NOT NULL,
        disabled boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE identities');
    await dropMessagingTables(queryRunner);
  }
}
