// A customer's whole journey across the suite, black-box over HTTP against real auth, users and
// orders, real PostgreSQL, real nats-server and real gRPC: register, login, place an order (orders
// calls users over gRPC with a token exchanged for the customer), the events, cancel, delete the
// account with a recent login, and the effects in auth and orders. Plus the revocation promise of
// SPEC §3: a revoked access token is refused by every service within 1 s.
import { AckPolicy, connect, DeliverPolicy, type JsMsg } from 'nats';
import { eventually, startSuite, type RunningSuite } from '../support/suite';

interface Session {
  accessToken: string;
  refreshCookie: string;
}

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

function decodePayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

describe('a customer journey across auth, users and orders', () => {
  let suite: RunningSuite;
  const password = 'journey passphrase 42';
  const email = `journey-${Date.now()}@example.com`;

  const post = (url: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(url, {
      method: 'POST',
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  async function login(user: string, secret: string): Promise<Session> {
    const response = await post(`${suite.authUrl}/auth/login`, { email: user, password: secret });
    expect(response.status).toBe(200);
    const body = await json(response);
    const cookie = response.headers
      .getSetCookie()
      .find((value) => value.startsWith('refresh_token='));
    return { accessToken: String(body.accessToken), refreshCookie: cookie!.split(';')[0] };
  }

  async function streamMessages(stream: string): Promise<JsMsg[]> {
    const connection = await connect({ servers: suite.natsUrl });
    try {
      const manager = await connection.jetstreamManager();
      // The stream is created by its service's first outbox pass: until then, no messages.
      const info = await manager.streams.info(stream).catch((error: { code?: string }) => {
        if (error.code === '404') return null;
        throw error;
      });
      if (!info) return [];
      const consumer = await manager.consumers.add(stream, {
        ack_policy: AckPolicy.None,
        deliver_policy: DeliverPolicy.All,
        inactive_threshold: 5_000_000_000,
      });
      const messages: JsMsg[] = [];
      if (info.state.messages === 0) return messages;
      const reader = await connection.jetstream().consumers.get(stream, consumer.name);
      const batch = await reader.fetch({ max_messages: info.state.messages, expires: 2000 });
      for await (const message of batch) messages.push(message);
      return messages;
    } finally {
      await connection.close();
    }
  }

  beforeAll(async () => {
    suite = await startSuite();
  }, 60_000);

  afterAll(() => suite?.stop());

  it('goes from registration to account deletion, with every effect in every service', async () => {
    // Register and log in.
    const registered = await post(`${suite.authUrl}/auth/register`, {
      email,
      password,
      displayName: 'Journey',
    });
    expect(registered.status).toBe(201);
    const { id: userId } = await json(registered);
    const session = await login(email, password);
    expect(decodePayload(session.accessToken)).toMatchObject({
      sub: userId,
      aud: expect.arrayContaining(['users', 'orders']),
      roles: ['customer'],
      region: 'eu',
    });

    // users learns of the identity over NATS.
    const me = await eventually(async () => {
      const response = await fetch(`${suite.usersUrl}/users/me`, {
        headers: bearer(session.accessToken),
      });
      return response.status === 200 ? json(response) : null;
    });
    expect(me).toMatchObject({ id: userId, email, displayName: 'Journey', region: 'eu' });

    // Place an order: prices from the catalog, users asked over gRPC with an exchanged token.
    const catalog = (await (await fetch(`${suite.ordersUrl}/catalog`)).json()) as {
      sku: string;
      price: number;
    }[];
    const placed = await post(
      `${suite.ordersUrl}/orders`,
      { items: [{ sku: catalog[0].sku, quantity: 2 }] },
      { ...bearer(session.accessToken), 'idempotency-key': 'journey-1' },
    );
    expect(placed.status).toBe(201);
    const order = await json(placed);
    expect(order).toMatchObject({ status: 'pending', total: catalog[0].price * 2, region: 'eu' });

    // The account cannot go while an order is open.
    const refused = await fetch(`${suite.usersUrl}/users/me`, {
      method: 'DELETE',
      headers: bearer(session.accessToken),
    });
    expect(refused.status).toBe(409);

    // Cancel it.
    const cancelled = await post(
      `${suite.ordersUrl}/orders/${order.id}/cancel`,
      undefined,
      bearer(session.accessToken),
    );
    expect(cancelled.status).toBe(200);
    expect(await json(cancelled)).toMatchObject({ id: order.id, status: 'cancelled' });

    // The events were published by orders, each with its service token and a message id.
    const orderEvents = await eventually(async () => {
      const messages = await streamMessages('ORDERS');
      return messages.length >= 2 ? messages : null;
    });
    expect(orderEvents.map((message) => message.subject)).toEqual([
      'orders.created',
      'orders.cancelled',
    ]);
    for (const message of orderEvents) {
      expect(message.headers?.get('Nats-Msg-Id')).toMatch(/^[0-9a-f-]{36}$/);
      const token = message.headers!.get('Authorization').replace(/^Bearer /, '');
      expect(decodePayload(token)).toMatchObject({ client_id: 'orders', aud: 'events' });
    }

    // Delete the account (a fresh login satisfies the step-up).
    const deleted = await fetch(`${suite.usersUrl}/users/me`, {
      method: 'DELETE',
      headers: bearer(session.accessToken),
    });
    expect(deleted.status).toBe(204);

    // auth revokes and deletes the credentials: the password no longer logs in.
    await eventually(async () => {
      const response = await post(`${suite.authUrl}/auth/login`, { email, password });
      return response.status === 401;
    });
    // Every service refuses the customer's token once auth's revocation arrives.
    await eventually(async () => {
      const [atUsers, atOrders] = await Promise.all([
        fetch(`${suite.usersUrl}/users/me`, { headers: bearer(session.accessToken) }),
        fetch(`${suite.ordersUrl}/orders`, { headers: bearer(session.accessToken) }),
      ]);
      return atUsers.status === 401 && atOrders.status === 401;
    });
    // orders anonymized the order but kept it for accounting.
    const admin = await login(suite.admin.email, suite.admin.password);
    const kept = await eventually(async () => {
      const response = await fetch(`${suite.ordersUrl}/orders/${order.id}`, {
        headers: bearer(admin.accessToken),
      });
      const body = await json(response);
      return response.status === 200 && body.userId === null ? body : null;
    });
    expect(kept).toMatchObject({
      id: order.id,
      status: 'cancelled',
      total: order.total,
      region: 'eu',
    });
  }, 60_000);

  it('refuses a logged-out access token in users and orders within 1 s, without asking auth', async () => {
    const other = `journey-logout-${Date.now()}@example.com`;
    expect(
      (await post(`${suite.authUrl}/auth/register`, { email: other, password, displayName: 'Out' }))
        .status,
    ).toBe(201);
    const session = await login(other, password);
    await eventually(async () => {
      const response = await fetch(`${suite.usersUrl}/users/me`, {
        headers: bearer(session.accessToken),
      });
      return response.status === 200;
    });
    // Warm both verification caches: the revocation must beat a cached verification too.
    expect(
      (await fetch(`${suite.ordersUrl}/orders`, { headers: bearer(session.accessToken) })).status,
    ).toBe(200);

    const loggedOut = await post(`${suite.authUrl}/auth/logout`, undefined, {
      cookie: session.refreshCookie,
    });
    expect(loggedOut.status).toBe(204);
    const start = Date.now();
    await eventually(
      async () => {
        const [atUsers, atOrders] = await Promise.all([
          fetch(`${suite.usersUrl}/users/me`, { headers: bearer(session.accessToken) }),
          fetch(`${suite.ordersUrl}/orders`, { headers: bearer(session.accessToken) }),
        ]);
        return atUsers.status === 401 && atOrders.status === 401;
      },
      1000,
      25,
    );
    expect(Date.now() - start).toBeLessThanOrEqual(1000);
  });
});
