import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Signing keys, refresh-token families, service clients, revocations and MFA. */
export class TokensClientsKeys1764144000000 implements MigrationInterface {
  name = 'TokensClientsKeys1764144000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE identities
        ADD COLUMN tokens_valid_after bigint NOT NULL DEFAULT 0,
        ADD COLUMN totp_secret text,
        ADD COLUMN totp_pending_secret text,
        ADD COLUMN totp_last_step bigint NOT NULL DEFAULT 0`);
    await queryRunner.query(`
      CREATE TABLE signing_keys (
        kid text PRIMARY KEY,
        alg text NOT NULL,
        public_jwk jsonb NOT NULL,
        private_key text NOT NULL,
        created_at timestamptz NOT NULL,
        activated_at timestamptz,
        retired_at timestamptz
      )`);
    await queryRunner.query(`
      CREATE TABLE refresh_families (
        id uuid PRIMARY KEY,
        identity_id uuid NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
        auth_time bigint NOT NULL,
        amr text[] NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz
      )`);
    await queryRunner.query(
      'CREATE INDEX refresh_families_identity ON refresh_families (identity_id)',
    );
    await queryRunner.query(`
      CREATE TABLE refresh_tokens (
        token_hash bytea PRIMARY KEY,
        family_id uuid NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL,
        idle_expires_at timestamptz NOT NULL,
        rotated_at timestamptz
      )`);
    await queryRunner.query('CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id)');
    await queryRunner.query(`
      CREATE TABLE oauth_clients (
        client_id text PRIMARY KEY,
        client_name text NOT NULL,
        secret_hash bytea,
        token_endpoint_auth_method text NOT NULL,
        grant_types text[] NOT NULL,
        scopes text[] NOT NULL,
        audiences text[] NOT NULL,
        jwks jsonb,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE revoked_access_tokens (
        jti text PRIMARY KEY,
        expires_at timestamptz NOT NULL
      )`);
    await queryRunner.query(`
      CREATE TABLE used_client_assertions (
        client_id text NOT NULL,
        jti text NOT NULL,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (client_id, jti)
      )`);
    await queryRunner.query(`
      CREATE TABLE mfa_challenges (
        token_hash bytea PRIMARY KEY,
        identity_id uuid NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
        expires_at timestamptz NOT NULL,
        failures integer NOT NULL DEFAULT 0,
        used_at timestamptz
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [
      'mfa_challenges',
      'used_client_assertions',
      'revoked_access_tokens',
      'oauth_clients',
      'refresh_tokens',
      'refresh_families',
      'signing_keys',
    ]) {
      await queryRunner.query(`DROP TABLE ${table}`);
    }
    await queryRunner.query(`
      ALTER TABLE identities DROP COLUMN tokens_valid_after, DROP COLUMN totp_secret,
        DROP COLUMN totp_pending_secret, DROP COLUMN totp_last_step`);
  }
}
