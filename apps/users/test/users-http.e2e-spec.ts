// users HTTP and gRPC, black-box, attacked per role: real Fastify, grpc-js, PostgreSQL and
// nats-server; tokens from a local issuer; orders is a fake gRPC server.
import { randomUUID } from 'node:crypto';
import type { Msg, Subscription } from 'nats';
import { Client } from 'pg';
import { SUPPORT_VISIBLE_FIELDS } from '../src/users/users.policy';
import {
  decodeJwt,
  delegatedToken,
  eventually,
  grpcGetUser,
  httpClient,
  ORDERS_DEADLINE_MS,
  seedProfile,
  seedProfiles,
  startUsers,
  userToken,
  type UsersHarness,
} from './support/users-harness';

let h: UsersHarness;
let http: ReturnType<typeof httpClient>;

beforeAll(async () => {
  h = await startUsers('users_http');
  http = httpClient(h.baseUrl);
}, 60_000);

afterAll(async () => {
  await h?.close();
});

const ALL_FIELDS = [
  'createdAt',
  'disabled',
  'displayName',
  'email',
  'id',
  'locale',
  'region',
  'roles',
  'updatedAt',
];

async function profileRow(id: string) {
  const { rows } = await h.pg.query('SELECT * FROM user_profiles WHERE id = $1', [id]);
  return rows[0] as Record<string, unknown> | undefined;
}

async function outboxRows(userId: string) {
  const { rows } = await h.pg.query(
    `SELECT id, subject, payload FROM outbox_messages
      WHERE subject = 'users.deleted' AND payload->>'userId' = $1`,
    [userId],
  );
  return rows as { id: string; subject: string; payload: unknown }[];
}

describe('GET /users/me', () => {
  it('answers a request without a token with 401 and a Bearer challenge', async () => {
    const response = await http('/users/me');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="users"');
    expect(response.body.error).toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('shows a customer their own profile with every field', async () => {
    const me = await seedProfile(h.pg);
    const response = await http('/users/me', { token: await userToken(h.issuer, me) });
    expect(response.status).toBe(200);
    expect(Object.keys(response.body).sort()).toEqual(ALL_FIELDS);
    expect(response.body).toMatchObject({ id: me.id, email: me.email, roles: ['customer'] });
  });

  it('refuses a service token: a service has no "me" (403)', async () => {
    const token = await h.issuer.serviceToken('orders', 'users', 'users:read');
    const response = await http('/users/me', { token });
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('FORBIDDEN');
  });

  it('requires scope users:read (a token issued for something else gets 403 insufficient_scope)', async () => {
    const me = await seedProfile(h.pg);
    const token = await userToken(h.issuer, me, { scope: 'orders:read' });
    const response = await http('/users/me', { token });
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
  });
});

describe('PATCH /users/me', () => {
  it('answers 404, not 500, when the profile is deleted between its read and its update', async () => {
    const me = await seedProfile(h.pg);
    const token = await userToken(h.issuer, me);
    // A second connection holds the row, as DELETE /users/me's transaction does until it commits.
    const blocker = new Client({ connectionString: h.databaseUrl });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT 1 FROM user_profiles WHERE id = $1 FOR UPDATE', [me.id]);
      const patch = http('/users/me', { method: 'PATCH', token, body: { displayName: 'Late' } });
      // The PATCH has read the profile and waits for the row lock in its UPDATE.
      await eventually(async () => {
        const [{ n }] = // Not on `blocker`: a transaction sees one snapshot of pg_stat_activity.
          (
            await h.pg.query(
              "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE%user_profiles%'",
            )
          ).rows;
        return n > 0;
      });
      await blocker.query('DELETE FROM user_profiles WHERE id = $1', [me.id]);
      await blocker.query('COMMIT');
      const response = await patch;
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe('NOT_FOUND');
    } finally {
      await blocker.end();
    }
  });

  it('changes displayName and locale of the caller and of nobody else', async () => {
    const [me, other] = await seedProfiles(h.pg, [{}, {}]);
    const response = await http('/users/me', {
      method: 'PATCH',
      token: await userToken(h.issuer, me),
      body: { displayName: 'Ada', locale: 'en-GB' },
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id: me.id, displayName: 'Ada', locale: 'en-GB' });
    expect(await profileRow(me.id)).toMatchObject({ display_name: 'Ada', locale: 'en-GB' });
    expect(await profileRow(other.id)).toMatchObject({
      display_name: other.displayName,
      locale: 'en',
    });
  });

  it.each([
    ['role', 'admin'],
    ['roles', ['admin']],
    ['region', 'us'],
    ['email', 'evil@example.com'],
    ['id', randomUUID()],
    ['disabled', false],
    ['createdAt', '2000-01-01T00:00:00Z'],
    ['identityVersion', '999999999999999'],
  ])('refuses the server-owned field %s with a 400 naming it (BOPLA)', async (field, value) => {
    const me = await seedProfile(h.pg);
    const before = await profileRow(me.id);
    const response = await http('/users/me', {
      method: 'PATCH',
      token: await userToken(h.issuer, me),
      body: { displayName: 'Mallory', [field]: value },
    });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('BAD_REQUEST');
    expect(response.body.error.message).toContain(field);
    expect(await profileRow(me.id)).toEqual(before);
  });

  it.each([
    [{ displayName: '' }, 'displayName'],
    [{ displayName: 'x'.repeat(101) }, 'displayName'],
    [{ displayName: null }, 'displayName'],
    [{ displayName: '   ' }, 'displayName'],
    [{ displayName: 'a\u0000b' }, 'displayName'],
    [{ locale: 'english' }, 'locale'],
    [{ locale: 'EN' }, 'locale'],
    [{ locale: 'en_GB' }, 'locale'],
    [{ locale: null }, 'locale'],
  ])('refuses the invalid value %j with a 400 naming the field', async (body, field) => {
    const me = await seedProfile(h.pg);
    const response = await http('/users/me', {
      method: 'PATCH',
      token: await userToken(h.issuer, me),
      body,
    });
    expect(response.status).toBe(400);
    expect(response.body.error.message).toContain(field);
  });

  it('refuses a service acting for the user (delegated token) with 403 and changes nothing', async () => {
    const me = await seedProfile(h.pg);
    const response = await http('/users/me', {
      method: 'PATCH',
      token: await delegatedToken(h.issuer, me, { scope: 'users:read users:write' }),
      body: { displayName: 'Changed by orders' },
    });
    expect(response.status).toBe(403);
    expect(await profileRow(me.id)).toMatchObject({ display_name: me.displayName });
  });

  it('requires scope users:write', async () => {
    const me = await seedProfile(h.pg);
    const response = await http('/users/me', {
      method: 'PATCH',
      token: await userToken(h.issuer, me, { scope: 'users:read' }),
      body: { displayName: 'Nope' },
    });
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toContain('scope="users:write"');
  });
});

describe('GET /users/:id', () => {
  it('shows a customer their own profile', async () => {
    const me = await seedProfile(h.pg);
    const response = await http(`/users/${me.id}`, { token: await userToken(h.issuer, me) });
    expect(response).toMatchObject({ status: 200, body: { id: me.id } });
  });

  it('answers another customer’s id with the same 404 as an unknown id (BOLA, no probing)', async () => {
    const [me, other] = await seedProfiles(h.pg, [{}, {}]);
    const token = await userToken(h.issuer, me);
    const hidden = await http(`/users/${other.id}`, { token });
    const unknown = await http(`/users/${randomUUID()}`, { token });
    expect(hidden.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(hidden.body.error.code).toBe('NOT_FOUND');
    expect(hidden.body.error.message).toBe(unknown.body.error.message);
  });

  it('shows support a profile in their region with the support fields only', async () => {
    const [agent, customer] = await seedProfiles(h.pg, [
      { roles: ['support'], region: 'eu' },
      { region: 'eu' },
    ]);
    const response = await http(`/users/${customer.id}`, {
      token: await userToken(h.issuer, agent),
    });
    expect(response.status).toBe(200);
    expect(Object.keys(response.body).sort()).toEqual([...SUPPORT_VISIBLE_FIELDS].sort());
    expect(response.body).not.toHaveProperty('roles');
    expect(response.body).not.toHaveProperty('disabled');
  });

  it('hides a profile in another region from support (404)', async () => {
    const [agent, customer] = await seedProfiles(h.pg, [
      { roles: ['support'], region: 'eu' },
      { region: 'us' },
    ]);
    const response = await http(`/users/${customer.id}`, {
      token: await userToken(h.issuer, agent),
    });
    expect(response.status).toBe(404);
  });

  it('grants a support token without a region nobody else’s profile', async () => {
    const [agent, customer] = await seedProfiles(h.pg, [{ roles: ['support'] }, {}]);
    const token = await userToken(h.issuer, { ...agent, region: null });
    expect((await http(`/users/${customer.id}`, { token })).status).toBe(404);
    expect((await http(`/users/${agent.id}`, { token })).status).toBe(200);
  });

  it('shows an admin any profile in any region with every field', async () => {
    const [admin, customer] = await seedProfiles(h.pg, [
      { roles: ['admin'], region: 'eu' },
      { region: 'apac' },
    ]);
    const response = await http(`/users/${customer.id}`, {
      token: await userToken(h.issuer, admin),
    });
    expect(response.status).toBe(200);
    expect(Object.keys(response.body).sort()).toEqual(ALL_FIELDS);
  });

  it('answers an id that is not a UUID with 400, for every caller', async () => {
    const me = await seedProfile(h.pg);
    const response = await http('/users/not-a-uuid', { token: await userToken(h.issuer, me) });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('BAD_REQUEST');
  });

  it('requires users:read of a service too (403 insufficient_scope); with it, any profile', async () => {
    const customer = await seedProfile(h.pg);
    const token = await h.issuer.serviceToken('orders', 'users', 'users:read');
    const without = await h.issuer.serviceToken('orders', 'users', 'orders:read');
    const refused = await http(`/users/${customer.id}`, { token: without });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    expect((await http(`/users/${customer.id}`, { token })).status).toBe(200);
  });
});

describe('GET /users', () => {
  it('refuses a customer with 403 (BFLA)', async () => {
    const me = await seedProfile(h.pg);
    const response = await http('/users', { token: await userToken(h.issuer, me) });
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('FORBIDDEN');
  });

  it('refuses a service, even with users:read, with 403: services read one user over gRPC', async () => {
    const token = await h.issuer.serviceToken('orders', 'users', 'users:read');
    expect((await http('/users', { token })).status).toBe(403);
  });

  it('refuses a delegated admin token without users:read (a service acting for an admin)', async () => {
    const admin = await seedProfile(h.pg, { roles: ['admin'] });
    const token = await delegatedToken(h.issuer, admin, { scope: '' });
    expect((await http('/users', { token })).status).toBe(403);
  });

  it('shows support only their region, on every page, with full pages (filtered in SQL)', async () => {
    const region = 'eu';
    const agent = await seedProfile(h.pg, { roles: ['support'], region });
    const own = await seedProfiles(
      h.pg,
      Array.from({ length: 5 }, () => ({ region })),
    );
    const others = await seedProfiles(
      h.pg,
      Array.from({ length: 7 }, (_, i) => ({ region: i % 2 ? 'us' : 'apac' })),
    );
    const token = await userToken(h.issuer, agent);
    const seen: Record<string, unknown>[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `/users?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const response = await http(query, { token });
      expect(response.status).toBe(200);
      const body = response.body as unknown as {
        items: Record<string, unknown>[];
        nextCursor: string | null;
      };
      // A page filtered in memory after LIMIT would come back short.
      if (body.nextCursor) expect(body.items).toHaveLength(2);
      seen.push(...body.items);
      cursor = body.nextCursor;
      pages += 1;
    } while (cursor && pages < 1000);
    expect(seen.every((item) => item.region === region)).toBe(true);
    const ids = seen.map((item) => item.id);
    for (const profile of [agent, ...own]) expect(ids).toContain(profile.id);
    for (const profile of others) expect(ids).not.toContain(profile.id);
    expect(new Set(ids).size).toBe(ids.length);
    // Others' profiles with the support fields only; their own with every field.
    for (const item of seen.filter((candidate) => candidate.id !== agent.id)) {
      expect(Object.keys(item).sort()).toEqual([...SUPPORT_VISIBLE_FIELDS].sort());
    }
    expect(Object.keys(seen.find((item) => item.id === agent.id)!).sort()).toEqual(ALL_FIELDS);
  });

  it('shows an admin every region with every field', async () => {
    const admin = await seedProfile(h.pg, { roles: ['admin'] });
    const profiles = await seedProfiles(h.pg, [{ region: 'us' }, { region: 'apac' }]);
    const token = await userToken(h.issuer, admin);
    const seen: Record<string, unknown>[] = [];
    let cursor: string | null = null;
    do {
      const response = await http(`/users?limit=100${cursor ? `&cursor=${cursor}` : ''}`, {
        token,
      });
      const body = response.body as unknown as {
        items: Record<string, unknown>[];
        nextCursor: string | null;
      };
      seen.push(...body.items);
      cursor = body.nextCursor;
    } while (cursor);
    for (const profile of profiles) {
      const item = seen.find((candidate) => candidate.id === profile.id);
      expect(item && Object.keys(item).sort()).toEqual(ALL_FIELDS);
    }
  });

  it('serves 20 profiles by default and caps the page size at 100', async () => {
    const admin = await seedProfile(h.pg, { roles: ['admin'] });
    await seedProfiles(
      h.pg,
      Array.from({ length: 21 }, () => ({})),
    );
    const token = await userToken(h.issuer, admin);
    const first = await http('/users', { token });
    expect((first.body.items as unknown[]).length).toBe(20);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    expect((await http('/users?limit=100', { token })).status).toBe(200);
    for (const limit of ['101', '0', '-1', '1.5', 'ten']) {
      const response = await http(`/users?limit=${limit}`, { token });
      expect(response.status).toBe(400);
      expect(response.body.error.message).toContain('limit');
    }
  });

  it('refuses a malformed cursor with 400', async () => {
    const admin = await seedProfile(h.pg, { roles: ['admin'] });
    const token = await userToken(h.issuer, admin);
    for (const cursor of ['%%%', 'bm90LWpzb24', Buffer.from('["x","y"]').toString('base64url')]) {
      const response = await http(`/users?cursor=${encodeURIComponent(cursor)}`, { token });
      expect(response.status).toBe(400);
      expect(response.body.error.message).toBe('cursor is invalid');
    }
  });

  it('refuses a cursor whose time PostgreSQL cannot store with the same 400, not a 500', async () => {
    const admin = await seedProfile(h.pg, { roles: ['admin'] });
    const token = await userToken(h.issuer, admin);
    const forged = Buffer.from(
      JSON.stringify(['-005000-01-01T00:00:00.000Z', '00000000-0000-4000-8000-000000000000']),
    ).toString('base64url');
    const response = await http(`/users?cursor=${forged}`, { token });
    expect(response.status).toBe(400);
    expect(response.body.error.message).toBe('cursor is invalid');
  });

  it('refuses an unknown query parameter with 400', async () => {
    const admin = await seedProfile(h.pg, { roles: ['admin'] });
    const response = await http('/users?region=us', { token: await userToken(h.issuer, admin) });
    expect(response.status).toBe(400);
    expect(response.body.error.message).toContain('region');
  });
});

describe('DELETE /users/me', () => {
  let deletedEvents: Msg[];
  let subscription: Subscription;

  beforeAll(() => {
    deletedEvents = [];
    subscription = h.nc.subscribe('users.deleted', {
      callback: (_error, message) => deletedEvents.push(message),
    });
  });

  afterAll(() => subscription.unsubscribe());

  it('answers a login older than 5 minutes with the RFC 9470 step-up challenge and deletes nothing', async () => {
    const me = await seedProfile(h.pg);
    const token = await userToken(h.issuer, me, {
      auth_time: Math.floor(Date.now() / 1000) - 301,
    });
    const response = await http('/users/me', { method: 'DELETE', token });
    expect(response.status).toBe(401);
    const challenge = response.headers.get('www-authenticate');
    expect(challenge).toContain('error="insufficient_user_authentication"');
    expect(challenge).toContain('max_age=300');
    expect(await profileRow(me.id)).toBeDefined();
    expect(h.orders.callsFor(me.id)).toEqual([]);
  });

  it('refuses a service token (403)', async () => {
    const token = await h.issuer.serviceToken('orders', 'users', 'users:read users:write');
    expect((await http('/users/me', { method: 'DELETE', token })).status).toBe(403);
  });

  it('refuses a service acting for the user (delegated token) with 403 and deletes nothing', async () => {
    const me = await seedProfile(h.pg);
    const token = await delegatedToken(h.issuer, me, { scope: 'users:read users:write' });
    expect((await http('/users/me', { method: 'DELETE', token })).status).toBe(403);
    expect(await profileRow(me.id)).toBeDefined();
    expect(h.orders.callsFor(me.id)).toEqual([]);
  });

  it('refuses with 409 while the user has open orders and deletes nothing', async () => {
    const me = await seedProfile(h.pg);
    h.orders.openOrders.set(me.id, 2);
    const response = await http('/users/me', {
      method: 'DELETE',
      token: await userToken(h.issuer, me),
    });
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('OPEN_ORDERS');
    expect(await profileRow(me.id)).toBeDefined();
    expect(await outboxRows(me.id)).toEqual([]);
  });

  it('asks orders with a client-credentials token (aud orders, scope orders:read), deletes, and publishes users.deleted { userId } from the outbox', async () => {
    const me = await seedProfile(h.pg);
    const response = await http('/users/me', {
      method: 'DELETE',
      token: await userToken(h.issuer, me),
    });
    expect(response.status).toBe(204);
    expect(await profileRow(me.id)).toBeUndefined();

    const [call] = h.orders.callsFor(me.id);
    expect(call.authorization).toHaveLength(1);
    const claims = decodeJwt(call.authorization[0].replace(/^Bearer /, ''));
    expect(claims).toMatchObject({ aud: 'orders', scope: 'orders:read', client_id: 'users' });
    expect(claims).not.toHaveProperty('act');

    const [row] = await outboxRows(me.id);
    expect(row.payload).toEqual({ userId: me.id });
    const published = await eventually(async () =>
      deletedEvents.find((message) => message.headers?.get('Nats-Msg-Id') === row.id),
    );
    expect(JSON.parse(Buffer.from(published.data).toString())).toEqual({ userId: me.id });
    const publisher = decodeJwt(published.headers!.get('Authorization').replace(/^Bearer /, ''));
    expect(publisher).toMatchObject({ client_id: 'users', aud: 'events' });
  });

  it('writes the profile deletion and the users.deleted event in one transaction', async () => {
    const me = await seedProfile(h.pg);
    // The outbox insert fails for this user only: the deletion must roll back with it.
    const fn = `fail_outbox_${me.id.replace(/-/g, '')}`;
    await h.pg.query(`
      CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.payload->>'userId' = '${me.id}' THEN RAISE EXCEPTION 'outbox down'; END IF;
        RETURN NEW;
      END $$`);
    await h.pg.query(
      `CREATE TRIGGER ${fn} BEFORE INSERT ON outbox_messages FOR EACH ROW EXECUTE FUNCTION ${fn}()`,
    );
    try {
      const response = await http('/users/me', {
        method: 'DELETE',
        token: await userToken(h.issuer, me),
      });
      expect(response.status).toBe(500);
      expect(response.body.error).toMatchObject({ code: 'INTERNAL', message: 'internal error' });
      expect(await profileRow(me.id)).toBeDefined();
    } finally {
      await h.pg.query(`DROP TRIGGER ${fn} ON outbox_messages`);
      await h.pg.query(`DROP FUNCTION ${fn}()`);
    }
  });

  it('answers 503 within the gRPC deadline when orders hangs, and deletes nothing', async () => {
    const me = await seedProfile(h.pg);
    h.orders.delayMs = ORDERS_DEADLINE_MS * 4;
    try {
      const response = await http('/users/me', {
        method: 'DELETE',
        token: await userToken(h.issuer, me),
      });
      expect(response.status).toBe(503);
      expect(response.body.error.code).toBe('UNAVAILABLE');
      expect(response.elapsedMs).toBeLessThan(ORDERS_DEADLINE_MS * 3);
      expect(await profileRow(me.id)).toBeDefined();
      expect(await outboxRows(me.id)).toEqual([]);
    } finally {
      h.orders.delayMs = 0;
    }
  });

  it('answers a fast 503 with the JSON error shape when orders is down, and deletes nothing', async () => {
    const me = await seedProfile(h.pg);
    await h.orders.stop();
    try {
      const response = await http('/users/me', {
        method: 'DELETE',
        token: await userToken(h.issuer, me),
      });
      expect(response.status).toBe(503);
      expect(response.body).toEqual({
        error: {
          code: 'UNAVAILABLE',
          message: expect.stringContaining('nothing was deleted'),
          requestId: expect.any(String),
        },
      });
      expect(response.elapsedMs).toBeLessThan(ORDERS_DEADLINE_MS * 3);
      expect(await profileRow(me.id)).toBeDefined();
      expect(await outboxRows(me.id)).toEqual([]);
    } finally {
      await h.orders.start();
    }
  });
});

describe('gRPC users.v1.UsersService/GetUser', () => {
  it('answers a call without a token with UNAUTHENTICATED', async () => {
    const user = await seedProfile(h.pg);
    expect((await grpcGetUser(h.grpcUrl, undefined, user.id)).code).toBe(16);
  });

  it('answers a bad token with UNAUTHENTICATED, never UNKNOWN', async () => {
    const user = await seedProfile(h.pg);
    expect((await grpcGetUser(h.grpcUrl, 'not.a.token', user.id)).code).toBe(16);
  });

  it('answers a service token without users:read with PERMISSION_DENIED', async () => {
    const user = await seedProfile(h.pg);
    const token = await h.issuer.serviceToken('orders', 'users', 'orders:read');
    expect((await grpcGetUser(h.grpcUrl, token, user.id)).code).toBe(7);
  });

  it('serves a service token with users:read every field of the proto', async () => {
    const user = await seedProfile(h.pg, { region: 'us' });
    const token = await h.issuer.serviceToken('orders', 'users', 'users:read');
    expect(await grpcGetUser(h.grpcUrl, token, user.id)).toEqual({
      code: 0,
      value: {
        id: user.id,
        email: user.email,
        displayName: user.displayName,
        locale: 'en',
        region: 'us',
        roles: ['customer'],
      },
    });
  });

  it('asks for users:read as GET /users/:id does: a token narrowed to other scopes reads nothing', async () => {
    const me = await seedProfile(h.pg);
    const narrowed = await userToken(h.issuer, me, { scope: 'orders:read' });
    expect((await http('/users/me', { token: narrowed })).status).toBe(403);
    expect((await grpcGetUser(h.grpcUrl, narrowed, me.id)).code).toBe(7);
    const exchanged = await delegatedToken(h.issuer, me, { scope: 'orders:read' });
    expect((await grpcGetUser(h.grpcUrl, exchanged, me.id)).code).toBe(7);
    expect(await grpcGetUser(h.grpcUrl, await userToken(h.issuer, me), me.id)).toMatchObject({
      code: 0,
      value: { id: me.id },
    });
  });

  it('lets a customer’s exchanged token read that customer only (others: NOT_FOUND)', async () => {
    const [me, other] = await seedProfiles(h.pg, [{}, {}]);
    const token = await delegatedToken(h.issuer, me);
    expect(await grpcGetUser(h.grpcUrl, token, me.id)).toMatchObject({
      code: 0,
      value: { id: me.id },
    });
    expect((await grpcGetUser(h.grpcUrl, token, other.id)).code).toBe(5);
    expect((await grpcGetUser(h.grpcUrl, token, randomUUID())).code).toBe(5);
  });

  it('applies support’s region and fields to a support user’s exchanged token', async () => {
    const [agent, inRegion, elsewhere] = await seedProfiles(h.pg, [
      { roles: ['support'], region: 'eu' },
      { region: 'eu', roles: ['customer'] },
      { region: 'us' },
    ]);
    const token = await delegatedToken(h.issuer, agent);
    const visible = await grpcGetUser(h.grpcUrl, token, inRegion.id);
    expect(visible).toMatchObject({ code: 0, value: { id: inRegion.id, region: 'eu' } });
    // Hidden from support: sent as the proto default (an empty list, omitted on the wire).
    expect(visible.value?.roles ?? []).toEqual([]);
    expect((await grpcGetUser(h.grpcUrl, token, elsewhere.id)).code).toBe(5);
  });

  it('answers an id that is not a UUID with INVALID_ARGUMENT', async () => {
    const token = await h.issuer.serviceToken('orders', 'users', 'users:read');
    expect((await grpcGetUser(h.grpcUrl, token, 'nope')).code).toBe(3);
  });
});
