// Every migration of every service, down and up again, on a real PostgreSQL: each `down` must
// run, leave what the migration before it made (nothing at all below the first one), and
// its `up` must then rebuild the very schema a fresh database gets. An operator rolling a
// release back runs these downs; a down that fails or leaves a table behind breaks that.
import { runMigrations } from '@app/platform';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { AUTH_MIGRATIONS, authDataSource } from '../../apps/auth/src/database/auth-data-source';
import {
  ORDERS_MIGRATIONS,
  ordersDataSource,
} from '../../apps/orders/src/database/orders-data-source';
import { USERS_MIGRATIONS, usersDataSource } from '../../apps/users/src/database/users-data-source';
import { createTestDatabase } from '../support/test-infra';

/** Tables, columns, constraints, indexes, types and functions of the public schema. */
async function schemaOf(db: DataSource): Promise<Record<string, unknown[]>> {
  const [tables, columns, constraints, indexes, types, functions] = await Promise.all([
    db.query(
      `SELECT table_name FROM information_schema.tables
        WHERE table_schema = 'public' AND table_name <> 'migrations' ORDER BY 1`,
    ),
    db.query(
      `SELECT table_name, column_name, data_type, is_nullable, column_default
         FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name <> 'migrations' ORDER BY 1, 2`,
    ),
    db.query(
      `SELECT conrelid::regclass::text AS table_name, conname, pg_get_constraintdef(oid) AS def
         FROM pg_constraint
        WHERE connamespace = 'public'::regnamespace AND conrelid <> 'migrations'::regclass
        ORDER BY 1, 2`,
    ),
    db.query(
      `SELECT tablename, indexname, indexdef FROM pg_indexes
        WHERE schemaname = 'public' AND tablename <> 'migrations' ORDER BY 1, 2`,
    ),
    db.query(
      `SELECT t.typname FROM pg_type t
        WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('e', 'd', 'c')
          AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.reltype = t.oid)
        ORDER BY 1`,
    ),
    db.query(
      `SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS args FROM pg_proc p
        WHERE p.pronamespace = 'public'::regnamespace ORDER BY 1, 2`,
    ),
  ]);
  return { tables, columns, constraints, indexes, types, functions };
}

const services: [string, (url: string) => DataSourceOptions, readonly unknown[]][] = [
  ['auth', authDataSource, AUTH_MIGRATIONS],
  ['users', usersDataSource, USERS_MIGRATIONS],
  ['orders', ordersDataSource, ORDERS_MIGRATIONS],
];

describe.each(services)('%s migrations', (service, dataSourceOf, migrations) => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase(`${service}_migrations_down_up`);
    await runMigrations(dataSourceOf(database.url));
    db = new DataSource(dataSourceOf(database.url));
    await db.initialize();
  });
  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
  });

  it('each down undoes its up: all the way down leaves nothing, and up again rebuilds the same schema', async () => {
    const fresh = await schemaOf(db);
    expect(fresh.tables.length).toBeGreaterThan(0);

    // Down one at a time, keeping the schema each number of applied migrations gives.
    const byStep: Record<string, unknown[]>[] = [];
    for (let i = 0; i < migrations.length; i++) {
      byStep.unshift(await schemaOf(db));
      await db.undoLastMigration({ transaction: 'each' });
    }
    expect(await db.query('SELECT name FROM migrations')).toEqual([]);
    expect(await schemaOf(db)).toEqual({
      tables: [],
      columns: [],
      constraints: [],
      indexes: [],
      types: [],
      functions: [],
    });

    // Up again, one migration at a time (runMigrations applies every pending one, so the ones
    // after step k are undone again): step k gives back the schema it had on the way down.
    const rebuilt: Record<string, unknown[]>[] = [];
    for (let k = 1; k <= migrations.length; k++) {
      await db.runMigrations({ transaction: 'each' });
      for (let newer = migrations.length - k; newer > 0; newer--) {
        await db.undoLastMigration({ transaction: 'each' });
      }
      rebuilt.push(await schemaOf(db));
    }
    expect(rebuilt).toEqual(byStep);
    expect(rebuilt.at(-1)).toEqual(fresh);
  });
});
