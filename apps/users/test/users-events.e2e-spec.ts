// auth.identity.* consumed by the real users app from JetStream (durable users-identity):
// applied once per message id, in order of storage, and refused (dead-lettered) when forged.
import { randomUUID } from 'node:crypto';
import {
  authEventsToken,
  eventually,
  publish,
  seedProfile,
  startUsers,
  TEST_DUPLICATE_WINDOW_MS,
  type UsersHarness,
} from './support/users-harness';

let h: UsersHarness;

beforeAll(async () => {
  h = await startUsers('users_events');
}, 60_000);

afterAll(async () => {
  await h?.close();
});

async function profileRow(id: string) {
  const { rows } = await h.pg.query('SELECT * FROM user_profiles WHERE id = $1', [id]);
  return rows[0] as Record<string, unknown> | undefined;
}

async function inboxCount(messageId: string) {
  const { rows } = await h.pg.query(
    'SELECT count(*)::int AS n FROM inbox_messages WHERE message_id = $1',
    [messageId],
  );
  return rows[0].n as number;
}

async function deadLetter(messageId: string) {
  return eventually(async () => {
    const { rows } = await h.pg.query(
      'SELECT error_code, reason, headers FROM dead_letters WHERE message_id = $1',
      [messageId],
    );
    return rows[0] as { error_code: string; reason: string; headers: object } | undefined;
  });
}

/** Resolves once the consumer has acked (or terminated) everything up to stream sequence `seq`. */
async function consumed(seq: number) {
  await eventually(async () => {
    const info = await (await h.nc.jetstreamManager()).consumers.info('AUTH', 'users-identity');
    return info.ack_floor.stream_seq >= seq && info.num_ack_pending === 0;
  }, 15_000);
}

const registered = (id = randomUUID()) => ({
  id,
  email: `${id}@example.com`,
  displayName: 'New User',
  region: 'eu',
  roles: ['customer'],
});

const updated = (id: string, changes: Record<string, unknown> = {}) => ({
  id,
  email: `${id}@example.com`,
  roles: ['customer'],
  region: 'eu',
  disabled: false,
  ...changes,
});

describe('auth.identity.registered', () => {
  it('creates the profile of a registered identity', async () => {
    const event = registered();
    await publish(h.nc, 'auth.identity.registered', event, await authEventsToken(h.issuer));
    const row = await eventually(() => profileRow(event.id));
    expect(row).toMatchObject({
      email: event.email,
      display_name: 'New User',
      region: 'eu',
      roles: ['customer'],
      locale: 'en',
    });
  });
});

describe('auth.identity.updated', () => {
  it('copies email, roles, region and disabled onto the profile', async () => {
    const profile = await seedProfile(h.pg);
    const event = updated(profile.id, {
      email: 'new@example.com',
      roles: ['support'],
      region: 'us',
      disabled: true,
    });
    await publish(h.nc, 'auth.identity.updated', event, await authEventsToken(h.issuer));
    expect(
      await eventually(async () => {
        const row = await profileRow(profile.id);
        return row?.email === 'new@example.com' ? row : undefined;
      }),
    ).toMatchObject({
      roles: ['support'],
      region: 'us',
      disabled: true,
      display_name: profile.displayName,
    });
  });

  it('applies a message id once when JetStream delivers it twice', async () => {
    const profile = await seedProfile(h.pg);
    const token = await authEventsToken(h.issuer);
    const first = await publish(
      h.nc,
      'auth.identity.updated',
      updated(profile.id, { region: 'us' }),
      token,
    );
    await eventually(async () => (await profileRow(profile.id))?.region === 'us');
    await publish(h.nc, 'auth.identity.updated', updated(profile.id, { region: 'apac' }), token);
    await eventually(async () => (await profileRow(profile.id))?.region === 'apac');
    // The same Nats-Msg-Id again, past the stream's duplicate window: a second delivery, as
    // after a relay that crashed between publishing and marking the row published.
    await new Promise((resolve) => setTimeout(resolve, TEST_DUPLICATE_WINDOW_MS * 2));
    const again = await publish(
      h.nc,
      'auth.identity.updated',
      updated(profile.id, { region: 'us' }),
      token,
      first.messageId,
    );
    expect(again.duplicate).toBe(false);
    await consumed(again.seq);
    expect(await profileRow(profile.id)).toMatchObject({ region: 'apac' });
    expect(await inboxCount(first.messageId)).toBe(1);
  });

  it('retries an update that arrives before its registration, and never lets it overwrite a newer one', async () => {
    const token = await authEventsToken(h.issuer);
    const event = registered();
    // Stored first, but its profile does not exist yet: redelivered with back-off (1 s).
    const early = await publish(
      h.nc,
      'auth.identity.updated',
      updated(event.id, { region: 'us', roles: ['support'] }),
      token,
    );
    await publish(h.nc, 'auth.identity.registered', event, token);
    const latest = await publish(
      h.nc,
      'auth.identity.updated',
      updated(event.id, { region: 'apac', roles: ['admin'] }),
      token,
    );
    await eventually(async () => (await profileRow(event.id))?.region === 'apac');
    await consumed(latest.seq);
    await eventually(async () => (await inboxCount(early.messageId)) === 1, 15_000);
    expect(await profileRow(event.id)).toMatchObject({ region: 'apac', roles: ['admin'] });
    const { rows } = await h.pg.query('SELECT 1 FROM dead_letters WHERE message_id = $1', [
      early.messageId,
    ]);
    expect(rows).toEqual([]);
  });
});

describe('identity event versions (the order changes committed in at auth)', () => {
  const version = (v: string) => ({ 'Identity-Version': v });

  it('keeps the latest change when the broker received it before the registration', async () => {
    const token = await authEventsToken(h.issuer);
    const event = registered();
    // auth committed the registration (version 100) before the update (version 200), but two
    // relays published them the other way round.
    const update = await publish(
      h.nc,
      'auth.identity.updated',
      updated(event.id, { region: 'us', roles: ['support'], disabled: true }),
      token,
      randomUUID(),
      version('200'),
    );
    await publish(h.nc, 'auth.identity.registered', event, token, randomUUID(), version('100'));
    await eventually(async () => (await inboxCount(update.messageId)) === 1, 15_000);
    expect(await profileRow(event.id)).toMatchObject({
      region: 'us',
      roles: ['support'],
      disabled: true,
    });
  });

  it('ignores an update whose version is older than the one applied', async () => {
    const token = await authEventsToken(h.issuer);
    const event = registered();
    await publish(h.nc, 'auth.identity.registered', event, token, randomUUID(), version('100'));
    await publish(
      h.nc,
      'auth.identity.updated',
      updated(event.id, { region: 'apac' }),
      token,
      randomUUID(),
      version('300'),
    );
    const stale = await publish(
      h.nc,
      'auth.identity.updated',
      updated(event.id, { region: 'us' }),
      token,
      randomUUID(),
      version('200'),
    );
    await eventually(async () => (await inboxCount(stale.messageId)) === 1, 15_000);
    expect(await profileRow(event.id)).toMatchObject({ region: 'apac' });
  });
});

describe('forged and invalid identity events', () => {
  const forgedUpdate = (id: string) =>
    updated(id, { email: 'attacker@example.com', roles: ['admin'], region: 'us' });

  it.each([
    ['without a token', async () => undefined, 'UNAUTHENTICATED'],
    [
      'with a customer’s token',
      () => h.issuer.userToken({ aud: 'events', client_id: 'auth', scope: 'events:publish' }),
      'PERMISSION_DENIED',
    ],
    [
      'with another service’s token (orders publishing auth.*)',
      () => h.issuer.serviceToken('orders', 'events', 'events:publish'),
      'PERMISSION_DENIED',
    ],
    [
      'with auth’s token lacking events:publish',
      () => h.issuer.serviceToken('auth', 'events', 'users:read'),
      'PERMISSION_DENIED',
    ],
    [
      'with auth’s token for another audience',
      () => h.issuer.serviceToken('auth', 'users', 'events:publish'),
      'UNAUTHENTICATED',
    ],
  ])(
    'refuses auth.identity.updated %s: nothing changes, it lands in dead_letters',
    async (_case, token, code) => {
      const profile = await seedProfile(h.pg);
      const before = await profileRow(profile.id);
      const { messageId } = await publish(
        h.nc,
        'auth.identity.updated',
        forgedUpdate(profile.id),
        await token(),
      );
      const letter = await deadLetter(messageId);
      expect(letter.error_code).toBe(code);
      expect(letter.headers).not.toHaveProperty('Authorization');
      expect(await profileRow(profile.id)).toEqual(before);
      expect(await inboxCount(messageId)).toBe(0);
    },
  );

  it('refuses a forged registration from another service: no profile is created', async () => {
    const event = registered();
    const { messageId } = await publish(
      h.nc,
      'auth.identity.registered',
      { ...event, roles: ['admin'] },
      await h.issuer.serviceToken('orders', 'events', 'events:publish'),
    );
    expect((await deadLetter(messageId)).error_code).toBe('PERMISSION_DENIED');
    expect(await profileRow(event.id)).toBeUndefined();
  });

  it.each([
    ['registered', 'an unknown field', { ...registered(), isAdmin: true }],
    ['registered', 'an unknown role', { ...registered(), roles: ['root'] }],
    ['updated', 'an unknown field', { ...updated(randomUUID()), displayName: 'x' }],
    ['updated', 'a missing field', { ...updated(randomUUID()), disabled: undefined }],
    ['updated', 'an id that is not a UUID', updated('42')],
  ])('refuses auth.identity.%s with %s as INVALID_ARGUMENT', async (kind, _case, payload) => {
    const { messageId } = await publish(
      h.nc,
      `auth.identity.${kind}`,
      payload,
      await authEventsToken(h.issuer),
    );
    expect((await deadLetter(messageId)).error_code).toBe('INVALID_ARGUMENT');
    expect(await inboxCount(messageId)).toBe(0);
    const { id } = payload as { id: string };
    if (id !== '42') expect(await profileRow(id)).toBeUndefined();
  });
});
