import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A retired signing key keeps its public half (listed in the retired key set, so NATS messages
 * stored before the rotation still verify) and loses its private half at retirement: nothing
 * signs with it again, and a database copy could only be stolen.
 */
export class RetiredSigningKeys1764950400000 implements MigrationInterface {
  name = 'RetiredSigningKeys1764950400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE signing_keys ALTER COLUMN private_key DROP NOT NULL');
    await queryRunner.query(
      'UPDATE signing_keys SET private_key = NULL WHERE retired_at IS NOT NULL',
    );
  }

  /**
   * Keys retired over an hour ago go (no token they signed is valid); a key retired since stays
   * published, with an empty private half: the code before this migration decrypts the signing
   * key only (its KEK resealer would log the empty one as unreadable and leave it).
   */
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `DELETE FROM signing_keys WHERE private_key IS NULL AND retired_at < now() - interval '1 hour'`,
    );
    await queryRunner.query(`UPDATE signing_keys SET private_key = '' WHERE private_key IS NULL`);
    await queryRunner.query('ALTER TABLE signing_keys ALTER COLUMN private_key SET NOT NULL');
  }
}
