import { createMessagingTablesV1, dropMessagingTables } from '@app/platform';
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Initial1764057600000 implements MigrationInterface {
  name = 'Initial1764057600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createMessagingTablesV1(queryRunner);
    await queryRunner.query(`
      CREATE TABLE user_profiles (
        id uuid PRIMARY KEY,
        email text NOT NULL,
        display_name text NOT NULL,
        locale text NOT NULL DEFAULT 'en',
        region text NOT NULL,
        roles text[] NOT NULL DEFAULT '{customer}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query('CREATE INDEX user_profiles_region ON user_profiles (region)');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE user_profiles');
    await dropMessagingTables(queryRunner);
  }
}
