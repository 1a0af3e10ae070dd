import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Keyset pagination of GET /users and the rest of auth's identity (disabled, event version).
 * Timestamps drop to millisecond precision so that a cursor built from a JavaScript Date is
 * exact; the indexes serve `ORDER BY created_at, id` for admins (all rows) and support (one
 * region).
 */
export class ProfileListing1764662400000 implements MigrationInterface {
  name = 'ProfileListing1764662400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE user_profiles
        ALTER COLUMN created_at TYPE timestamptz(3),
        ALTER COLUMN updated_at TYPE timestamptz(3),
        ADD COLUMN disabled boolean NOT NULL DEFAULT false,
        ADD COLUMN identity_version bigint NOT NULL DEFAULT 0`);
    await queryRunner.query(
      'CREATE INDEX user_profiles_created_at_id ON user_profiles (created_at, id)',
    );
    await queryRunner.query(
      'CREATE INDEX user_profiles_region_created_at_id ON user_profiles (region, created_at, id)',
    );
    await queryRunner.query('DROP INDEX user_profiles_region');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('CREATE INDEX user_profiles_region ON user_profiles (region)');
    await queryRunner.query('DROP INDEX user_profiles_region_created_at_id');
    await queryRunner.query('DROP INDEX user_profiles_created_at_id');
    await queryRunner.query(`
      ALTER TABLE user_profiles
        DROP COLUMN identity_version,
        DROP COLUMN disabled,
        ALTER COLUMN updated_at TYPE timestamptz,
        ALTER COLUMN created_at TYPE timestamptz`);
  }
}
