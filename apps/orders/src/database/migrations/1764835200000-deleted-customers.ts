import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Customers whose account users deleted (users.deleted): no order is placed for them any more,
 * even by a request that read their profile just before the deletion.
 */
export class DeletedCustomers1764835200000 implements MigrationInterface {
  name = 'DeletedCustomers1764835200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE deleted_customers (
        user_id uuid PRIMARY KEY,
        deleted_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE deleted_customers');
  }
}
