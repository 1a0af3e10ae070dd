// Tables that only receive inserts (outbox, inbox, idempotency keys, expired refresh families...)
// are swept against real PostgreSQL: old rows go, recent and never-published rows stay.
import { DataSource } from 'typeorm';
import { createTestDatabase } from '../../../../test/support/test-infra';
import { createMessagingTables } from './messaging-tables';
import { checkRetentionRule, MESSAGING_RETENTION, RetentionSweeper } from './retention';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let dataSource: DataSource;

beforeAll(async () => {
  database = await createTestDatabase('retention');
  dataSource = await new DataSource({ type: 'postgres', url: database.url }).initialize();
  await createMessagingTables(dataSource.createQueryRunner());
  await dataSource.query('CREATE TABLE samples (id int PRIMARY KEY, seen_at timestamptz)');
});

afterAll(async () => {
  await dataSource?.destroy();
  await database?.drop();
});

const ids = async (table: string) =>
  (await dataSource.query(`SELECT id FROM ${table} ORDER BY id`)).map(
    (row: { id: number | string }) => String(row.id),
  );

it('deletes rows older than the rule keeps, in batches, and nothing else', async () => {
  await dataSource.query(`
    INSERT INTO samples (id, seen_at)
    SELECT n, now() - interval '2 hours' FROM generate_series(1, 2500) AS n`);
  await dataSource.query(`
    INSERT INTO samples (id, seen_at) VALUES
      (9001, now() - interval '30 minutes'), (9002, now()), (9003, NULL)`);
  const sweeper = new RetentionSweeper(dataSource, [
    { table: 'samples', column: 'seen_at', keepSeconds: 3600 },
  ]);
  expect(await sweeper.sweep()).toEqual({ samples: 2500 });
  expect(await ids('samples')).toEqual(['9001', '9002', '9003']);
  expect(await sweeper.sweep()).toEqual({ samples: 0 });
});

it('keeps unpublished outbox rows however old, and inbox rows for longer than a stream keeps messages', async () => {
  await dataSource.query(`
    INSERT INTO outbox_messages (id, subject, payload, created_at, published_at) VALUES
      ('00000000-0000-4000-8000-000000000001', 'x.a', '{}', now() - interval '60 days', NULL),
      ('00000000-0000-4000-8000-000000000002', 'x.a', '{}', now() - interval '60 days', now() - interval '8 days'),
      ('00000000-0000-4000-8000-000000000003', 'x.a', '{}', now() - interval '2 days', now() - interval '1 day')`);
  await dataSource.query(`
    INSERT INTO inbox_messages (message_id, subject, processed_at) VALUES
      ('old', 'x.a', now() - interval '9 days'), ('week', 'x.a', now() - interval '7 days')`);
  const sweeper = new RetentionSweeper(dataSource, MESSAGING_RETENTION);
  await sweeper.sweep();
  expect(await ids('outbox_messages')).toEqual([
    '00000000-0000-4000-8000-000000000001',
    '00000000-0000-4000-8000-000000000003',
  ]);
  const inbox = await dataSource.query('SELECT message_id FROM inbox_messages');
  expect(inbox).toEqual([{ message_id: 'week' }]);
});

it('skips a rule whose table does not exist and still sweeps the others', async () => {
  await dataSource.query(
    `INSERT INTO samples (id, seen_at) VALUES (7001, now() - interval '2 hours')`,
  );
  const sweeper = new RetentionSweeper(dataSource, [
    { table: 'no_such_table', column: 'seen_at', keepSeconds: 60 },
    { table: 'samples', column: 'seen_at', keepSeconds: 3600 },
  ]);
  expect(await sweeper.sweep()).toEqual({ samples: 1 });
});

it('refuses a rule whose table or column is not a plain identifier', () => {
  expect(() =>
    checkRetentionRule({ table: 'samples; DROP TABLE x', column: 'seen_at', keepSeconds: 1 }),
  ).toThrow(/identifier/);
  expect(() =>
    checkRetentionRule({ table: 'samples', column: 'seen_at OR true', keepSeconds: 1 }),
  ).toThrow(/identifier/);
  expect(() => checkRetentionRule({ table: 'samples', column: 'seen_at', keepSeconds: 0 })).toThrow(
    /positive/,
  );
  expect(
    () => new RetentionSweeper(dataSource, [{ table: 'a b', column: 'c', keepSeconds: 1 }]),
  ).toThrow(/identifier/);
});
