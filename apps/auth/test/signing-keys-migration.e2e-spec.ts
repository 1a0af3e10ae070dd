// The migration that lets a retired signing key keep its public half without its private half
// (1764950400000-retired-signing-keys), up and down, on a real PostgreSQL with rows in place.
import { runMigrations } from '@app/platform';
import { DataSource } from 'typeorm';
import { createTestDatabase } from '../../../test/support/test-infra';
import { AUTH_MIGRATIONS, authDataSource } from '../src/database/auth-data-source';
import { RetiredSigningKeys1764950400000 } from '../src/database/migrations/1764950400000-retired-signing-keys';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let db: DataSource;

beforeAll(async () => {
  database = await createTestDatabase('auth_keys_migration');
  await runMigrations(authDataSource(database.url));
  db = new DataSource(authDataSource(database.url));
  await db.initialize();
});
afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

const insert = (kid: string, privateKey: string | null, retiredMinutesAgo: number | null) =>
  db.query(
    `INSERT INTO signing_keys (kid, alg, public_jwk, private_key, created_at, activated_at, retired_at)
     VALUES ($1, 'ES256', '{}'::jsonb, $2, now() - interval '1 day', now() - interval '1 day',
             CASE WHEN $3::int IS NULL THEN NULL ELSE now() - make_interval(mins => $3::int) END)`,
    [kid, privateKey, retiredMinutesAgo],
  );
const rows = async () =>
  (await db.query('SELECT kid, private_key FROM signing_keys ORDER BY kid')) as {
    kid: string;
    private_key: string | null;
  }[];

it('down keeps the keys still published (an empty private half) and drops the old retired ones; up clears retired private halves', async () => {
  // undoLastMigration reverts the newest migration: the ones after this one go first (and
  // runMigrations below applies them again).
  const newer =
    AUTH_MIGRATIONS.length - 1 - AUTH_MIGRATIONS.indexOf(RetiredSigningKeys1764950400000);
  expect(AUTH_MIGRATIONS).toContain(RetiredSigningKeys1764950400000);
  for (let i = 0; i < newer; i++) await db.undoLastMigration({ transaction: 'each' });
  await insert('current', 'v1.sealed', null);
  await insert('previous', null, 5);
  await insert('long-retired', null, 120);
  await db.undoLastMigration({ transaction: 'each' });
  expect(await rows()).toEqual([
    { kid: 'current', private_key: 'v1.sealed' },
    { kid: 'previous', private_key: '' },
  ]);
  const [column] = await db.query(
    `SELECT is_nullable FROM information_schema.columns
      WHERE table_name = 'signing_keys' AND column_name = 'private_key'`,
  );
  expect(column.is_nullable).toBe('NO');

  // An older version retired a key and kept its private half: up deletes it.
  await db.query(`UPDATE signing_keys SET private_key = 'v1.kept' WHERE kid = 'previous'`);
  await db.runMigrations({ transaction: 'each' });
  expect(await rows()).toEqual([
    { kid: 'current', private_key: 'v1.sealed' },
    { kid: 'previous', private_key: null },
  ]);
});
