import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Orders1764403200000 implements MigrationInterface {
  name = 'Orders1764403200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE orders (
        id uuid PRIMARY KEY,
        user_id uuid,
        region text NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'confirmed', 'shipped', 'cancelled')),
        currency text NOT NULL,
        total integer NOT NULL CHECK (total >= 0),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        anonymized_at timestamptz
      )`);
    // Keyset pagination (created_at DESC, id DESC) for each way GET /orders is filtered:
    // admin (all), customer (own), support (region).
    await queryRunner.query(`CREATE INDEX orders_cursor ON orders (created_at DESC, id DESC)`);
    await queryRunner.query(
      `CREATE INDEX orders_user_cursor ON orders (user_id, created_at DESC, id DESC)`,
    );
    await queryRunner.query(
      `CREATE INDEX orders_region_cursor ON orders (region, created_at DESC, id DESC)`,
    );
    // CountOpenOrders and the anonymization of a deleted user.
    await queryRunner.query(`CREATE INDEX orders_user_status ON orders (user_id, status)`);
    await queryRunner.query(`
      CREATE TABLE order_items (
        order_id uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
        line smallint NOT NULL,
        sku text NOT NULL,
        name text NOT NULL,
        unit_price integer NOT NULL CHECK (unit_price >= 0),
        quantity smallint NOT NULL CHECK (quantity BETWEEN 1 AND 100),
        line_total integer NOT NULL CHECK (line_total >= 0),
        PRIMARY KEY (order_id, line)
      )`);
    await queryRunner.query(`
      CREATE TABLE idempotency_keys (
        user_id uuid NOT NULL,
        key text NOT NULL,
        request_hash text NOT NULL,
        status_code smallint NOT NULL,
        response jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, key)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE idempotency_keys');
    await queryRunner.query('DROP TABLE order_items');
    await queryRunner.query('DROP TABLE orders');
  }
}
