import {
  asJson,
  decodeJwt,
  postJson,
  startAuthTestApp,
  STRONG_PASSWORD,
  type AuthTestApp,
  bearer,
} from './support/auth-test-app';
import { rawHttpStatus } from '../../../test/support/raw-http';
import { AuthEventsListener } from './support/nats-listener';
import { adminToken, login, refresh, registerAndLogin } from './support/users';

// PATCH /admin/users/:id (SPEC §2, §3, §5): what an admin change does to the user's sessions,
// tokens and logins, and what it announces on NATS; and that only admins reach /admin at all.
let auth: AuthTestApp;
let events: AuthEventsListener;
let admin: string;

beforeAll(async () => {
  auth = await startAuthTestApp('auth_admin_users');
  events = await AuthEventsListener.start(auth.config.NATS_URL);
  admin = await adminToken(auth);
});
afterAll(async () => {
  await events?.close();
  await auth?.close();
});

const patchUser = (id: string, body: unknown, token: string | undefined = admin) =>
  fetch(`${auth.url}/admin/users/${id}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json', ...(token ? bearer(token) : {}) },
    body: JSON.stringify(body),
  });

/**
 * Whether auth's own guard accepts `token`: /auth/password with an invalid body answers 400
 * once the guard has let the token through, 401 when the guard refuses it. Changes nothing.
 */
const acceptedByAuth = async (token: string) => {
  const response = await postJson(`${auth.url}/auth/password`, {}, bearer(token));
  expect([400, 401]).toContain(response.status);
  return response.status === 400;
};

describe('disabling a user', () => {
  it('ends refresh and login, publishes a sub revocation and auth.identity.updated disabled:true', async () => {
    const user = await registerAndLogin(auth, 'disabled');
    const iat = Number(decodeJwt(user.accessToken).payload.iat);
    expect(await acceptedByAuth(user.accessToken)).toBe(true);

    const response = await patchUser(user.id, { disabled: true });
    expect(response.status).toBe(200);
    expect(await response.json().then(asJson)).toMatchObject({ id: user.id, disabled: true });

    expect((await refresh(auth, user.refreshToken)).status).toBe(401);
    const again = await postJson(`${auth.url}/auth/login`, {
      email: user.email,
      password: STRONG_PASSWORD,
    });
    expect(again.status).toBe(401);
    expect(await acceptedByAuth(user.accessToken)).toBe(false);

    const revocation = await events.waitFor(
      'auth.revocations',
      (p) => p.type === 'sub' && p.sub === user.id,
    );
    // `at` covers every token issued so far: resource servers refuse the old access token too.
    expect(Number(revocation.payload.at)).toBeGreaterThan(iat);
    expect(revocation.authorization).toMatch(/^Bearer \S+$/);
    const updated = await events.waitFor('auth.identity.updated', (p) => p.id === user.id);
    expect(updated.payload).toMatchObject({ id: user.id, email: user.email, disabled: true });
  });
});

describe('changing roles and region', () => {
  it('publishes the new values, revokes earlier tokens, and a new login carries the new claims', async () => {
    const user = await registerAndLogin(auth, 'promoted');
    const old = decodeJwt(user.accessToken).payload;
    expect(old).toMatchObject({ roles: ['customer'], region: 'eu' });

    const response = await patchUser(user.id, { roles: ['support'], region: 'us' });
    expect(response.status).toBe(200);
    expect(await response.json().then(asJson)).toMatchObject({
      id: user.id,
      roles: ['support'],
      region: 'us',
      disabled: false,
    });

    const updated = await events.waitFor('auth.identity.updated', (p) => p.id === user.id);
    expect(updated.payload).toMatchObject({
      id: user.id,
      email: user.email,
      roles: ['support'],
      region: 'us',
      disabled: false,
    });
    // Each identity event carries auth's version of the identity, increased by every change in
    // the order the changes committed: users keeps the latest whatever order they arrive in.
    const registeredEvent = await events.waitFor(
      'auth.identity.registered',
      (p) => p.id === user.id,
    );
    expect(registeredEvent.identityVersion).toMatch(/^[0-9]+$/);
    expect(BigInt(updated.identityVersion!)).toBeGreaterThan(
      BigInt(registeredEvent.identityVersion!),
    );
    const revocation = await events.waitFor(
      'auth.revocations',
      (p) => p.type === 'sub' && p.sub === user.id,
    );
    expect(Number(revocation.payload.at)).toBeGreaterThan(Number(old.iat));

    // The token carrying roles [customer] / region eu is dead at auth, and so is its session.
    expect(await acceptedByAuth(user.accessToken)).toBe(false);
    expect((await refresh(auth, user.refreshToken)).status).toBe(401);

    // A login right away (often within the revocation's second) gets the new values and works.
    const fresh = await login(auth, user.email, STRONG_PASSWORD);
    const claims = decodeJwt(fresh.accessToken).payload;
    expect(claims).toMatchObject({ sub: user.id, roles: ['support'], region: 'us' });
    expect(Number(claims.iat)).toBeGreaterThanOrEqual(Number(revocation.payload.at));
    expect(await acceptedByAuth(fresh.accessToken)).toBe(true);
  });
});

describe('admin endpoints (BFLA)', () => {
  const adminRoutes = (targetId: string) => [
    { method: 'PATCH', path: `/admin/users/${targetId}`, body: { roles: ['admin'] } },
    { method: 'POST', path: '/admin/keys/rotate' },
    { method: 'GET', path: '/admin/clients' },
    {
      method: 'POST',
      path: '/admin/clients',
      body: {
        client_name: 'sneaky',
        scope: 'orders:read',
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'client_secret_basic',
        audience: ['orders'],
      },
    },
    { method: 'DELETE', path: '/admin/clients/orders' },
  ];
  const call = (route: { method: string; path: string; body?: unknown }, token?: string) =>
    fetch(`${auth.url}${route.path}`, {
      method: route.method,
      headers: {
        ...(route.body ? { 'content-type': 'application/json' } : {}),
        ...(token ? bearer(token) : {}),
      },
      body: route.body ? JSON.stringify(route.body) : undefined,
    });

  const state = async () => ({
    roles: await auth.db.query('SELECT id, roles, region, disabled FROM identities ORDER BY id'),
    clients: await auth.db.query('SELECT client_id FROM oauth_clients ORDER BY client_id'),
    keys: await auth.db.query(
      'SELECT kid, activated_at, retired_at FROM signing_keys ORDER BY kid',
    ),
  });

  it('answers 403 to a customer token and changes nothing (own account included)', async () => {
    const customer = await registerAndLogin(auth, 'customer');
    const victim = await registerAndLogin(auth, 'victim');
    const before = await state();
    for (const target of [customer.id, victim.id]) {
      for (const route of adminRoutes(target)) {
        const response = await call(route, customer.accessToken);
        expect({ ...route, status: response.status }).toEqual({ ...route, status: 403 });
        expect(response.headers.get('cache-control')).toBe('no-store');
      }
    }
    expect(await state()).toEqual(before);
    // The customer's token is still a plain customer token afterwards.
    expect(await acceptedByAuth(customer.accessToken)).toBe(true);
  });

  it('answers 401 with a Bearer challenge when there is no token', async () => {
    const victim = await registerAndLogin(auth, 'victim');
    const before = await state();
    for (const route of adminRoutes(victim.id)) {
      const response = await call(route);
      expect({ ...route, status: response.status }).toEqual({ ...route, status: 401 });
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
      // SPEC §6: auth responses are no-store, the guard's refusals too.
      expect(response.headers.get('cache-control')).toBe('no-store');
    }
    expect(await state()).toEqual(before);
  });

  it('reads Authorization with the rule of every service: one field, Bearer and one token', async () => {
    const status = (authorization: string) =>
      fetch(`${auth.url}/admin/clients`, { headers: { authorization } }).then((r) => r.status);
    expect(await status(`bearer ${admin}`)).toBe(200);
    expect(await status(`Bearer ${admin} trailing`)).toBe(401);
    const twoFields = [`Authorization: Bearer ${admin}`, `Authorization: Bearer ${admin}`];
    expect(await rawHttpStatus(auth.url, { path: '/admin/clients', headerLines: twoFields })).toBe(
      401,
    );
  });

  it('lets the admin through on the same routes (the 403s are about the role)', async () => {
    expect((await call({ method: 'GET', path: '/admin/clients' }, admin)).status).toBe(200);
  });
});

describe('admin step-up (RFC 9470) on routes that grant privileges', () => {
  it('refuses a stale admin login making an account admin or creating a client, and changes nothing', async () => {
    // The chain it stops: a stolen admin token makes its holder's own account an admin, who
    // then logs in afresh and can do anything, TOTP resets included.
    const stale = await adminToken(auth);
    const own = await registerAndLogin(auth, 'escalate');
    auth.clock.advance(301_000);
    const patched = await patchUser(own.id, { roles: ['admin'] }, stale);
    expect(patched.status).toBe(401);
    expect(patched.headers.get('www-authenticate')).toContain(
      'error="insufficient_user_authentication"',
    );
    const created = await postJson(
      `${auth.url}/admin/clients`,
      {
        client_name: 'escalate',
        scope: 'users:read',
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'client_secret_basic',
        audience: ['users'],
      },
      bearer(stale),
    );
    expect(created.status).toBe(401);
    const [row] = await auth.db.query('SELECT roles FROM identities WHERE id = $1', [own.id]);
    expect(row.roles).toEqual(['customer']);
    expect(await auth.db.query(`SELECT 1 FROM oauth_clients WHERE client_id = 'escalate'`)).toEqual(
      [],
    );
    // A fresh admin login may.
    expect((await patchUser(own.id, { region: 'eu' }, await adminToken(auth))).status).toBe(200);
  });

  it('refuses a stale admin login deleting a client or rotating the signing keys', async () => {
    const stale = await adminToken(auth);
    auth.clock.advance(301_000);
    const keysBefore = await auth.db.query(
      'SELECT kid, activated_at, retired_at FROM signing_keys ORDER BY kid',
    );
    const deleted = await fetch(`${auth.url}/admin/clients/orders`, {
      method: 'DELETE',
      headers: bearer(stale),
    });
    expect(deleted.status).toBe(401);
    expect(deleted.headers.get('www-authenticate')).toContain(
      'error="insufficient_user_authentication"',
    );
    const rotated = await fetch(`${auth.url}/admin/keys/rotate`, {
      method: 'POST',
      headers: bearer(stale),
    });
    expect(rotated.status).toBe(401);
    expect(
      await auth.db.query(`SELECT 1 FROM oauth_clients WHERE client_id = 'orders'`),
    ).toHaveLength(1);
    expect(
      await auth.db.query('SELECT kid, activated_at, retired_at FROM signing_keys ORDER BY kid'),
    ).toEqual(keysBefore);
  });
});

describe('an admin and their own account', () => {
  it.each([
    ['disable', { disabled: true }],
    ['drop their admin role', { roles: ['customer'] }],
  ])('refuses to let an admin %s themself (409), and changes nothing', async (_case, body) => {
    const token = await adminToken(auth);
    const { sub } = decodeJwt(token).payload as { sub: string };
    const response = await patchUser(sub, body, token);
    expect(response.status).toBe(409);
    const [row] = await auth.db.query('SELECT roles, disabled FROM identities WHERE id = $1', [
      sub,
    ]);
    expect(row).toEqual({ roles: ['admin'], disabled: false });
    // Their own region, say, they may change.
    expect((await patchUser(sub, { region: 'eu' }, token)).status).toBe(200);
  });
});
