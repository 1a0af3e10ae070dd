// The inbox against real PostgreSQL: a message applies once per (message id, subject), so a
// publisher that reuses another publisher's Nats-Msg-Id on its own subject masks nothing.
import { DataSource } from 'typeorm';
import { createTestDatabase } from '../../../../test/support/test-infra';
import {
  createMessagingTables,
  createMessagingTablesV1,
  keyInboxByMessageId,
  keyInboxBySubject,
} from '../database/messaging-tables';
import { InboxService } from './inbox.service';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let dataSource: DataSource;
let inbox: InboxService;
/** What each `apply` did, as `subject/id`, in order. */
let applied: string[];

const processOnce = (messageId: string, subject: string) =>
  inbox.processOnce(messageId, subject, async () => {
    applied.push(`${subject}/${messageId}`);
  });

beforeAll(async () => {
  database = await createTestDatabase('inbox');
  dataSource = await new DataSource({ type: 'postgres', url: database.url }).initialize();
  await createMessagingTables(dataSource.createQueryRunner());
  inbox = new InboxService(dataSource);
});

afterAll(async () => {
  await dataSource?.destroy();
  await database?.drop();
});

beforeEach(async () => {
  applied = [];
  await dataSource.query('TRUNCATE inbox_messages');
});

it('applies a redelivered message once', async () => {
  expect(await processOnce('m-1', 'users.created')).toBe(true);
  expect(await processOnce('m-1', 'users.created')).toBe(false);
  expect(applied).toEqual(['users.created/m-1']);
});

it("applies another subject's message with the same id: one publisher's ids cannot mask another's", async () => {
  expect(await processOnce('m-2', 'orders.created')).toBe(true);
  // A publisher may send only its own subjects (SecurityGuard); here one reuses the id of an
  // orders message, before or after it. Neither masks the other.
  expect(await processOnce('m-2', 'users.deleted')).toBe(true);
  expect(await processOnce('m-3', 'users.deleted')).toBe(true);
  expect(await processOnce('m-3', 'orders.created')).toBe(true);
  expect(applied).toEqual([
    'orders.created/m-2',
    'users.deleted/m-2',
    'users.deleted/m-3',
    'orders.created/m-3',
  ]);
});

it('applies a message once when deliveries of it race', async () => {
  const results = await Promise.all(
    Array.from({ length: 5 }, () => processOnce('m-4', 'users.created')),
  );
  expect(results.filter(Boolean)).toHaveLength(1);
  expect(applied).toEqual(['users.created/m-4']);
});

it('records nothing when the effect fails, so the redelivery applies it', async () => {
  await expect(
    inbox.processOnce('m-5', 'users.created', () => Promise.reject(new Error('effect failed'))),
  ).rejects.toThrow('effect failed');
  expect(await processOnce('m-5', 'users.created')).toBe(true);
  expect(applied).toEqual(['users.created/m-5']);
});

describe('the migration to the (message id, subject) key', () => {
  let legacy: Awaited<ReturnType<typeof createTestDatabase>>;
  let legacySource: DataSource;
  const rows = () =>
    legacySource.query<{ message_id: string; subject: string }[]>(
      'SELECT message_id, subject FROM inbox_messages ORDER BY message_id, subject',
    );

  beforeAll(async () => {
    legacy = await createTestDatabase('inbox-v1');
    legacySource = await new DataSource({ type: 'postgres', url: legacy.url }).initialize();
    await createMessagingTablesV1(legacySource.createQueryRunner());
  });

  afterAll(async () => {
    await legacySource?.destroy();
    await legacy?.drop();
  });

  it('keeps the rows applied before it, and going back keeps the first applied of each id', async () => {
    await legacySource.query(
      "INSERT INTO inbox_messages (message_id, subject) VALUES ('a', 'users.created')",
    );
    await keyInboxBySubject(legacySource.createQueryRunner());
    const upgraded = new InboxService(legacySource);
    const noop = async () => undefined;
    expect(await upgraded.processOnce('a', 'users.created', noop)).toBe(false);
    expect(await upgraded.processOnce('a', 'orders.created', noop)).toBe(true);
    await legacySource.query(
      `INSERT INTO inbox_messages (message_id, subject, processed_at) VALUES
         ('b', 'users.created', now() + interval '1 second'), ('b', 'orders.created', now())`,
    );

    await keyInboxByMessageId(legacySource.createQueryRunner());
    expect(await rows()).toEqual([
      { message_id: 'a', subject: 'users.created' },
      { message_id: 'b', subject: 'orders.created' },
    ]);
    await expect(
      legacySource.query(
        "INSERT INTO inbox_messages (message_id, subject) VALUES ('a', 'orders.created')",
      ),
    ).rejects.toThrow(/inbox_messages_pkey/);
  });
});
