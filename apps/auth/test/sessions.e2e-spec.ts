import { RetentionSweeper } from '@app/platform';
import {
  asJson,
  decodeJwt,
  postJson,
  refreshCookieOf,
  startAuthTestApp,
  STRONG_PASSWORD,
  uniqueEmail,
  type AuthTestApp,
  bearer,
} from './support/auth-test-app';
import { refresh, registerAndLogin, revocationEvents } from './support/users';

let auth: AuthTestApp;
beforeAll(async () => {
  auth = await startAuthTestApp('auth_sessions', {
    REFRESH_IDLE_SECONDS: '3600',
    REFRESH_ABSOLUTE_SECONDS: '7200',
  });
});
afterAll(async () => auth?.close());

describe('login', () => {
  it('issues a user token with the SPEC claims, auth in the audience, amr pwd', async () => {
    const user = await registerAndLogin(auth);
    const { header, payload } = decodeJwt(user.accessToken);
    expect(header.typ).toBe('at+jwt');
    expect(payload).toMatchObject({
      iss: auth.config.AUTH_ISSUER,
      sub: user.id,
      aud: ['users', 'orders', 'auth'],
      client_id: 'web',
      roles: ['customer'],
      region: 'eu',
      amr: ['pwd'],
    });
    expect(Number(payload.exp) - Number(payload.iat)).toBe(900);
    expect(Math.abs(Number(payload.auth_time) - Date.now() / 1000)).toBeLessThan(5);
    expect(typeof payload.sid).toBe('string');
  });

  it('refuses a login from a cross-site page, which would sign the browser in to its account (login CSRF)', async () => {
    const email = uniqueEmail();
    await postJson(`${auth.url}/auth/register`, {
      email,
      password: STRONG_PASSWORD,
      displayName: 'c',
    });
    const login = (
      headers: Record<string, string>,
      body = JSON.stringify({ email, password: STRONG_PASSWORD }),
    ) =>
      fetch(`${auth.url}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
    for (const headers of [
      { origin: 'https://evil.example' },
      { 'sec-fetch-site': 'cross-site' },
    ] as Record<string, string>[]) {
      const response = await login(headers);
      expect(response.status).toBe(403);
      expect(refreshCookieOf(response)).toBeUndefined();
    }
    // A form is what a page can post without a CORS preflight: only the OAuth endpoints read one.
    const form = await login(
      { 'content-type': 'application/x-www-form-urlencoded' },
      new URLSearchParams({ email, password: STRONG_PASSWORD }).toString(),
    );
    expect(form.status).toBe(415);
    expect(refreshCookieOf(form)).toBeUndefined();
    const mfa = await fetch(`${auth.url}/auth/login/mfa`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' },
      body: JSON.stringify({ mfaToken: 'x'.repeat(43), code: '123456' }),
    });
    expect(mfa.status).toBe(403);
    const sameOrigin = await login({ origin: new URL(auth.config.AUTH_ISSUER).origin });
    expect(sameOrigin.status).toBe(200);
    expect(refreshCookieOf(sameOrigin)).toBeDefined();
  });

  it('sets the refresh cookie HttpOnly, Secure, SameSite=Strict, Path=/auth', async () => {
    const email = uniqueEmail();
    await postJson(`${auth.url}/auth/register`, {
      email,
      password: STRONG_PASSWORD,
      displayName: 'c',
    });
    const response = await postJson(`${auth.url}/auth/login`, { email, password: STRONG_PASSWORD });
    const cookie = response.headers
      .getSetCookie()
      .find((value) => value.startsWith('refresh_token='))!;
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/; SameSite=Strict/);
    expect(cookie).toMatch(/; Path=\/auth(;|$)/);
    expect(refreshCookieOf(response)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('stores only a hash of the refresh token', async () => {
    const user = await registerAndLogin(auth);
    const rows: { token_hash: Buffer }[] = await auth.db.query(
      'SELECT token_hash FROM refresh_tokens',
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows)
      expect(row.token_hash.toString('utf8')).not.toContain(user.refreshToken);
    const raw = JSON.stringify(await auth.db.query('SELECT * FROM refresh_tokens'));
    expect(raw).not.toContain(user.refreshToken);
  });

  it('answers an unknown account and a wrong password with the same status and body', async () => {
    const user = await registerAndLogin(auth);
    const wrong = await postJson(`${auth.url}/auth/login`, {
      email: user.email,
      password: 'wrong password 123',
    });
    const unknown = await postJson(`${auth.url}/auth/login`, {
      email: uniqueEmail('ghost'),
      password: 'wrong password 123',
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const strip = (body: { error: { requestId?: string } }) => ({
      ...body.error,
      requestId: undefined,
    });
    expect(strip(await wrong.json().then(asJson))).toEqual(
      strip(await unknown.json().then(asJson)),
    );
  });

  it('refuses an email with control characters (a NUL byte) with 400, not a 500', async () => {
    for (const email of ['a\u0000@x', 'a@x\u001f', 'a\u007f@x']) {
      const response = await postJson(`${auth.url}/auth/login`, { email, password: 'x' });
      expect({ email, status: response.status }).toEqual({ email, status: 400 });
      expect((await response.json().then(asJson)).error.message).toContain(
        'email must not contain control characters',
      );
    }
  });
});

describe('registration', () => {
  const register = (password: string) =>
    postJson(`${auth.url}/auth/register`, {
      email: uniqueEmail('reg'),
      password,
      displayName: 'r',
    });

  it('refuses a password of 11 characters and accepts 12', async () => {
    expect((await register('abcdefghij1')).status).toBe(400);
    expect((await register('abcdefghij1Z')).status).toBe(201);
  });

  it('accepts 128 characters and refuses 129 (never truncated)', async () => {
    expect((await register('x'.repeat(127) + 'y')).status).toBe(201);
    expect((await register('x'.repeat(128) + 'y')).status).toBe(400);
  });

  it('refuses a password from the common-password list', async () => {
    const response = await register('1qaz2wsx3edc');
    expect(response.status).toBe(400);
    expect((await response.json().then(asJson)).error.message).toMatch(/common/);
  });

  it('refuses control characters (a NUL byte) in email and displayName with 400', async () => {
    for (const body of [
      { email: `a\u0000${uniqueEmail('nul')}`, displayName: 'r' },
      { email: uniqueEmail('nul'), displayName: 'r\u0000' },
    ]) {
      const response = await postJson(`${auth.url}/auth/register`, {
        ...body,
        password: STRONG_PASSWORD,
      });
      expect({ body, status: response.status }).toEqual({ body, status: 400 });
    }
  });

  it('refuses text that is not well-formed Unicode (a lone surrogate) with 400, not 500', async () => {
    const response = await fetch(`${auth.url}/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"email":"${uniqueEmail('surrogate')}","password":"${STRONG_PASSWORD}","displayName":"\\ud800"}`,
    });
    expect(response.status).toBe(400);
    expect((await response.json().then(asJson)).error).toMatchObject({
      code: 'BAD_REQUEST',
      message: 'the body holds text that is not well-formed Unicode',
    });
  });

  it('has no composition rules', async () => {
    expect((await register('onlylowercaseletters')).status).toBe(201);
  });

  it('compares the whole password: a different last character does not log in', async () => {
    const email = uniqueEmail('long');
    const password = 'p'.repeat(100) + 'end of it';
    await postJson(`${auth.url}/auth/register`, { email, password, displayName: 'l' });
    const almost = await postJson(`${auth.url}/auth/login`, {
      email,
      password: password.slice(0, -1) + 'X',
    });
    expect(almost.status).toBe(401);
    expect((await postJson(`${auth.url}/auth/login`, { email, password })).status).toBe(200);
  });
});

describe('refresh', () => {
  it('rotates the refresh token and keeps auth_time and sid', async () => {
    const user = await registerAndLogin(auth);
    const response = await refresh(auth, user.refreshToken);
    expect(response.status).toBe(200);
    const next = refreshCookieOf(response);
    expect(next).toBeDefined();
    expect(next).not.toBe(user.refreshToken);
    const before = decodeJwt(user.accessToken).payload;
    const after = decodeJwt((await response.json().then(asJson)).accessToken).payload;
    expect(after.sid).toBe(before.sid);
    expect(after.auth_time).toBe(before.auth_time);
  });

  it('refuses to refresh for a disabled account even if its session survived the disabling', async () => {
    const user = await registerAndLogin(auth);
    // Disabling through the admin API also revokes the sessions; this checks the refresh itself.
    await auth.db.query('UPDATE identities SET disabled = true WHERE id = $1', [user.id]);
    expect((await refresh(auth, user.refreshToken)).status).toBe(401);
  });

  it('lets exactly one of two concurrent refreshes of one token succeed', async () => {
    for (let round = 0; round < 3; round++) {
      const user = await registerAndLogin(auth);
      const results = await Promise.all([1, 2, 3, 4].map(() => refresh(auth, user.refreshToken)));
      expect(results.map((response) => response.status).sort()).toEqual([200, 401, 401, 401]);
      // The losers were inside the grace window: the session survives.
      const winner = results.find((response) => response.status === 200)!;
      expect((await refresh(auth, refreshCookieOf(winner)!)).status).toBe(200);
    }
  });

  it('refuses a rotated-out token inside the grace window without revoking the family', async () => {
    const user = await registerAndLogin(auth);
    const first = await refresh(auth, user.refreshToken);
    const newest = refreshCookieOf(first)!;
    auth.clock.advance(5_000);
    expect((await refresh(auth, user.refreshToken)).status).toBe(401);
    expect((await refresh(auth, newest)).status).toBe(200);
  });

  it('revokes the family, newest token included, when a rotated-out token is reused after the grace window', async () => {
    const user = await registerAndLogin(auth);
    const sid = decodeJwt(user.accessToken).payload.sid;
    const newest = refreshCookieOf(await refresh(auth, user.refreshToken))!;
    auth.clock.advance(11_000);
    expect((await refresh(auth, user.refreshToken)).status).toBe(401);
    expect((await refresh(auth, newest)).status).toBe(401);
    expect(await revocationEvents(auth)).toContainEqual(
      expect.objectContaining({ type: 'sid', sid }),
    );
    // and the session's access token stops working at auth too
    const response = await fetch(`${auth.url}/auth/mfa/totp/setup`, {
      method: 'POST',
      headers: bearer(user.accessToken),
    });
    expect(response.status).toBe(401);
  });

  it('expires a refresh token after the idle timeout', async () => {
    const user = await registerAndLogin(auth);
    auth.clock.advance(3_601_000);
    expect((await refresh(auth, user.refreshToken)).status).toBe(401);
  });

  it('expires a family at the absolute timeout even when used', async () => {
    const user = await registerAndLogin(auth);
    let token = user.refreshToken;
    for (let hop = 0; hop < 3; hop++) {
      auth.clock.advance(3_000_000);
      const response = await refresh(auth, token);
      if (hop < 2) {
        expect(response.status).toBe(200);
        token = refreshCookieOf(response)!;
      } else {
        expect(response.status).toBe(401); // 9000 s > 7200 s absolute
      }
    }
  });

  it('deletes a family and its tokens a day after its absolute expiry, and only then', async () => {
    const [expired, live] = [await registerAndLogin(auth), await registerAndLogin(auth)];
    const familyOf = async (userId: string) =>
      (await auth.db.query('SELECT id FROM refresh_families WHERE identity_id = $1', [userId]))[0]
        ?.id as string | undefined;
    const expiredFamily = await familyOf(expired.id);
    await auth.db.query(
      `UPDATE refresh_families SET expires_at = now() - interval '25 hours' WHERE id = $1`,
      [expiredFamily],
    );
    const deleted = await auth.app.get(RetentionSweeper).sweep();
    expect(deleted.refresh_families).toBeGreaterThanOrEqual(1);
    expect(await familyOf(expired.id)).toBeUndefined();
    const tokens = await auth.db.query('SELECT 1 FROM refresh_tokens WHERE family_id = $1', [
      expiredFamily,
    ]);
    expect(tokens).toHaveLength(0);
    expect(await familyOf(live.id)).toBeDefined();
    expect((await refresh(auth, live.refreshToken)).status).toBe(200);
  });

  it('refuses a refresh from a cross-site Origin', async () => {
    const user = await registerAndLogin(auth);
    const response = await refresh(auth, user.refreshToken, { origin: 'https://evil.example' });
    expect(response.status).toBe(403);
    expect(
      (await refresh(auth, user.refreshToken, { 'sec-fetch-site': 'cross-site' })).status,
    ).toBe(403);
    expect(
      (await refresh(auth, user.refreshToken, { origin: new URL(auth.config.AUTH_ISSUER).origin }))
        .status,
    ).toBe(200);
  });
});

describe('logout and password change', () => {
  it('logout clears the cookie and revokes the family', async () => {
    const user = await registerAndLogin(auth);
    const response = await fetch(`${auth.url}/auth/logout`, {
      method: 'POST',
      headers: { cookie: `refresh_token=${user.refreshToken}` },
    });
    expect(response.status).toBe(204);
    expect(response.headers.getSetCookie().join()).toMatch(/refresh_token=;/);
    expect((await refresh(auth, user.refreshToken)).status).toBe(401);
    const sid = decodeJwt(user.accessToken).payload.sid;
    expect(await revocationEvents(auth)).toContainEqual(
      expect.objectContaining({ type: 'sid', sid }),
    );
  });

  it('password change revokes every other session and publishes a sub revocation', async () => {
    const user = await registerAndLogin(auth);
    const other = await postJson(`${auth.url}/auth/login`, {
      email: user.email,
      password: STRONG_PASSWORD,
    });
    const otherRefresh = refreshCookieOf(other)!;
    const response = await postJson(
      `${auth.url}/auth/password`,
      { currentPassword: STRONG_PASSWORD, newPassword: 'a brand new passphrase 7' },
      bearer(user.accessToken),
    );
    expect(response.status).toBe(204);
    expect((await refresh(auth, otherRefresh)).status).toBe(401);
    expect((await refresh(auth, user.refreshToken)).status).toBe(200);
    expect(await revocationEvents(auth)).toContainEqual(
      expect.objectContaining({ type: 'sub', sub: user.id }),
    );
    expect(
      (await postJson(`${auth.url}/auth/login`, { email: user.email, password: STRONG_PASSWORD }))
        .status,
    ).toBe(401);
  });

  it('password change refuses a wrong current password and a common new one', async () => {
    const user = await registerAndLogin(auth);
    const wrong = await postJson(
      `${auth.url}/auth/password`,
      { currentPassword: 'not my password!', newPassword: 'a brand new passphrase 7' },
      bearer(user.accessToken),
    );
    expect(wrong.status).toBe(403);
    const common = await postJson(
      `${auth.url}/auth/password`,
      { currentPassword: STRONG_PASSWORD, newPassword: '1qaz2wsx3edc' },
      bearer(user.accessToken),
    );
    expect(common.status).toBe(400);
  });

  it('requires a bearer token on /auth/password (deny by default)', async () => {
    const response = await postJson(`${auth.url}/auth/password`, {
      currentPassword: 'x',
      newPassword: 'y',
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('refuses a service token at auth (audience is not auth)', async () => {
    const service = await fetch(`${auth.url}/oauth/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`orders:${auth.ordersSecret}`).toString('base64')}`,
      },
      body: 'grant_type=client_credentials&audience=users',
    });
    const token = (await service.json().then(asJson)).access_token;
    const response = await postJson(
      `${auth.url}/auth/password`,
      { currentPassword: 'x', newPassword: 'y' },
      bearer(token),
    );
    expect(response.status).toBe(401);
  });
});
