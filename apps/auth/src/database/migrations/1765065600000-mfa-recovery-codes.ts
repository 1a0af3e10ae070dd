import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * TOTP recovery codes (NIST SP 800-63B look-up secrets): ten per enrolled user, each usable
 * once in place of a TOTP code. Only a SHA-256 of the user's id and the code is stored; a code
 * has 120 random bits, so the hash cannot be searched back to it (NIST SP 800-63B §5.1.2.2).
 */
export class MfaRecoveryCodes1765065600000 implements MigrationInterface {
  name = 'MfaRecoveryCodes1765065600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE mfa_recovery_codes (
        identity_id uuid NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
        code_hash bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        used_at timestamptz,
        PRIMARY KEY (identity_id, code_hash)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE mfa_recovery_codes');
  }
}
