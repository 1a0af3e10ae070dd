import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The version of an identity's published state (auth.identity.* events carry it): increased
 * under the row lock by every change, so consumers keep the latest change whatever order the
 * broker received the events in.
 */
export class IdentityVersion1764835200000 implements MigrationInterface {
  name = 'IdentityVersion1764835200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE identities ADD COLUMN identity_version bigint NOT NULL DEFAULT 0',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE identities DROP COLUMN identity_version');
  }
}
