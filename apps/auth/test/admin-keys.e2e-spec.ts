import { Logger } from '@nestjs/common';
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { createLocalJWKSet, jwtVerify } from 'jose';
import {
  asJson,
  basic,
  decodeJwt,
  postForm,
  postJson,
  startAuthTestApp,
  type AuthTestApp,
  bearer,
} from './support/auth-test-app';
import { AUTH_STREAM_MAX_AGE_MS, STREAM_MAX_AGE_MS } from '@app/platform';
import { CLOCK_TOLERANCE_SECONDS, TokenVerifier } from '@app/security';
import { MAX_RETIRED_KEYS, SigningKeyStore } from '../src/keys/signing-key.store';
import { signCompact } from '../src/tokens/jws';
import { adminToken, registerAndLogin, revocationEvents } from './support/users';

let auth: AuthTestApp;
let admin: string;
beforeAll(async () => {
  auth = await startAuthTestApp('auth_admin');
  admin = await adminToken(auth);
});
afterAll(async () => auth?.close());

/** `token`'s claims with `changes` (and a new jti), signed with auth's current key. */
function resigned(token: string, changes: Record<string, unknown>): Promise<string> {
  const key = auth.app.get(SigningKeyStore).current();
  const claims = { ...decodeJwt(token).payload, jti: randomUUID(), ...changes };
  return signCompact(key.encodedHeader, key.alg, claims as never, key.privateKey);
}

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const AT = 'urn:ietf:params:oauth:token-type:access_token';

describe('admin', () => {
  it('bootstraps the admin from ADMIN_EMAIL / ADMIN_PASSWORD', () => {
    expect(decodeJwt(admin).payload.roles).toEqual(['admin']);
  });

  it("refuses an admin's rights carried by a delegated token (act) with 403", async () => {
    // What token exchange would issue if it ever let an admin's token through to aud auth: a
    // service acting for the admin must not administer auth.
    const listClients = async (token: string) =>
      (await fetch(`${auth.url}/admin/clients`, { headers: bearer(token) })).status;
    expect(await listClients(await resigned(admin, {}))).toBe(200); // the control: the admin's own claims
    expect(await listClients(await resigned(admin, { act: { sub: 'orders' } }))).toBe(403);
  });

  it('refuses a non-admin with 403', async () => {
    const user = await registerAndLogin(auth);
    expect(
      (await fetch(`${auth.url}/admin/clients`, { headers: bearer(user.accessToken) })).status,
    ).toBe(403);
  });

  it('creates a client whose secret is shown once and stored as a hash', async () => {
    const response = await postJson(
      `${auth.url}/admin/clients`,
      {
        client_name: 'inventory',
        scope: 'orders:read',
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'client_secret_basic',
        audience: ['orders'],
      },
      bearer(admin),
    );
    expect(response.status).toBe(201);
    const body = await response.json().then(asJson);
    expect(body.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const rows = JSON.stringify(
      await auth.db.query(`SELECT * FROM oauth_clients WHERE client_id = 'inventory'`),
    );
    expect(rows).not.toContain(body.client_secret);
    const listed = await (
      await fetch(`${auth.url}/admin/clients`, { headers: bearer(admin) })
    )
      .json()
      .then(asJson);
    expect(JSON.stringify(listed)).not.toContain(body.client_secret);
    const token = await postForm(
      `${auth.url}/oauth/token`,
      { grant_type: 'client_credentials', audience: 'orders' },
      basic('inventory', body.client_secret),
    );
    expect(token.status).toBe(200);
    // deleting it revokes its tokens and its credentials
    expect(
      (
        await fetch(`${auth.url}/admin/clients/inventory`, {
          method: 'DELETE',
          headers: bearer(admin),
        })
      ).status,
    ).toBe(204);
    expect(await revocationEvents(auth)).toContainEqual(
      expect.objectContaining({ type: 'client', clientId: 'inventory' }),
    );
    // Also where a starting replica replays a week back: a message its tokens signed may wait
    // in a stream that long.
    expect(await revocationEvents(auth, 'auth.revocations.stored')).toContainEqual(
      expect.objectContaining({ type: 'client', clientId: 'inventory' }),
    );
    const again = await postForm(
      `${auth.url}/oauth/token`,
      { grant_type: 'client_credentials', audience: 'orders' },
      basic('inventory', body.client_secret),
    );
    expect(again.status).toBe(401);
  });

  it('refuses to delete a built-in service client, which every start would re-create', async () => {
    for (const [clientId, secret] of [
      ['users', auth.usersSecret],
      ['orders', auth.ordersSecret],
    ]) {
      const response = await fetch(`${auth.url}/admin/clients/${clientId}`, {
        method: 'DELETE',
        headers: bearer(admin),
      });
      expect(response.status).toBe(409);
      const { error } = await response.json().then(asJson);
      expect(error.code).toBe('CONFLICT');
      expect(error.message).toContain(`rotate ${clientId.toUpperCase()}_CLIENT_SECRET`);
      // Nothing changed: the client is there, unrevoked, and still gets tokens.
      const rows = await auth.db.query('SELECT 1 FROM oauth_clients WHERE client_id = $1', [
        clientId,
      ]);
      expect(rows).toHaveLength(1);
      expect(await revocationEvents(auth)).not.toContainEqual(
        expect.objectContaining({ type: 'client', clientId }),
      );
      const token = await postForm(
        `${auth.url}/oauth/token`,
        { grant_type: 'client_credentials', audience: 'events' },
        basic(clientId, secret),
      );
      expect(token.status).toBe(200);
    }
  });

  it('answers 400 to the deletion of a client id no client can have (a NUL byte)', async () => {
    const before = await auth.db.query('SELECT client_id FROM oauth_clients ORDER BY client_id');
    for (const id of ['%00', 'users%00', 'Users']) {
      const response = await fetch(`${auth.url}/admin/clients/${id}`, {
        method: 'DELETE',
        headers: bearer(admin),
      });
      expect({ id, status: response.status }).toEqual({ id, status: 400 });
      expect((await response.json().then(asJson)).error.message).toBe(
        'client id must be a lower-case service name',
      );
    }
    expect(await auth.db.query('SELECT client_id FROM oauth_clients ORDER BY client_id')).toEqual(
      before,
    );
  });

  it('publishes auth.identity.updated and revokes the user on a role change', async () => {
    const user = await registerAndLogin(auth);
    const response = await fetch(`${auth.url}/admin/users/${user.id}`, {
      method: 'PATCH',
      headers: { ...bearer(admin), 'content-type': 'application/json' },
      body: JSON.stringify({ roles: ['support'], region: 'us' }),
    });
    expect(response.status).toBe(200);
    const events = await auth.db.query(
      `SELECT payload FROM outbox_messages WHERE subject = 'auth.identity.updated'`,
    );
    expect(events.map((row: { payload: unknown }) => row.payload)).toContainEqual(
      expect.objectContaining({ id: user.id, roles: ['support'], region: 'us' }),
    );
    expect(await revocationEvents(auth)).toContainEqual(
      expect.objectContaining({ type: 'sub', sub: user.id }),
    );
  });
});

describe('private_key_jwt (RFC 7523)', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const assertion = (claims: Record<string, unknown>) => {
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const input = `${b64({ alg: 'ES256', kid: 'k1' })}.${b64(claims)}`;
    return `${input}.${sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
  };
  beforeAll(async () => {
    const response = await postJson(
      `${auth.url}/admin/clients`,
      {
        client_name: 'billing',
        scope: 'orders:read',
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'private_key_jwt',
        audience: ['orders'],
        jwks: { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'k1' }] },
      },
      bearer(admin),
    );
    expect(response.status).toBe(201);
  });
  const request = (jwt: string) =>
    postForm(`${auth.url}/oauth/token`, {
      grant_type: 'client_credentials',
      audience: 'orders',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: jwt,
    });
  const claims = () => ({
    iss: 'billing',
    sub: 'billing',
    aud: auth.config.AUTH_ISSUER,
    exp: Math.floor(auth.clock.now() / 1000) + 60,
    jti: randomUUID(),
  });

  it('authenticates a signed assertion and refuses its replay', async () => {
    const jwt = assertion(claims());
    expect((await request(jwt)).status).toBe(200);
    const replay = await request(jwt);
    expect(replay.status).toBe(401);
    expect((await replay.json().then(asJson)).error).toBe('invalid_client');
  });

  it('refuses an assertion for another audience or signed by another key', async () => {
    expect(
      (await request(assertion({ ...claims(), aud: 'https://elsewhere.example/token' }))).status,
    ).toBe(401);
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const jwt = assertion(claims());
    const [h, p] = jwt.split('.');
    const forged = `${h}.${p}.${sign('sha256', Buffer.from(`${h}.${p}`), { key: other, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
    expect((await request(forged)).status).toBe(401);
  });

  describe('audience (draft-ietf-oauth-rfc7523bis)', () => {
    const status = async (aud: unknown) => (await request(assertion({ ...claims(), aud }))).status;
    const issuer = () => auth.config.AUTH_ISSUER;
    const tokenEndpoint = () => `${issuer()}/oauth/token`;
    const legacy = (enabled: boolean) =>
      ((
        auth.config as { CLIENT_ASSERTION_LEGACY_AUDIENCE: boolean }
      ).CLIENT_ASSERTION_LEGACY_AUDIENCE = enabled);
    afterEach(() => legacy(false));

    it('accepts the issuer identifier as the one audience', async () => {
      expect(auth.config.CLIENT_ASSERTION_LEGACY_AUDIENCE).toBe(false);
      expect(await status(issuer())).toBe(200);
    });

    // An authorization server the client also uses can name this token endpoint as its own and
    // collect an assertion for it; the issuer identifier, alone, is what the client checked.
    it.each([
      ['the token endpoint URL', () => tokenEndpoint()],
      ['an array holding the issuer', () => [issuer()]],
      ['an array holding the issuer and another server', () => [issuer(), 'https://as.example']],
    ])('refuses %s as the audience', async (_name, aud) => {
      expect(await status(aud())).toBe(401);
    });

    it('accepts the older audiences with CLIENT_ASSERTION_LEGACY_AUDIENCE, logging the client once', async () => {
      legacy(true);
      const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      try {
        expect(await status(tokenEndpoint())).toBe(200);
        expect(await status([issuer(), 'https://as.example'])).toBe(200);
        expect(await status('https://as.example/token')).toBe(401);
        const lines = warn.mock.calls.filter(([, message]) =>
          String(message).startsWith('client assertion with a legacy audience'),
        );
        expect(lines).toEqual([[{ clientId: 'billing' }, expect.any(String)]]);
      } finally {
        warn.mockRestore();
      }
    });
  });
});

describe('token exchange (RFC 8693) and revocation (RFC 7009)', () => {
  const ordersBasic = () => basic('orders', auth.ordersSecret);
  const exchange = (subjectToken: string, extra: Record<string, string> = {}) =>
    postForm(
      `${auth.url}/oauth/token`,
      {
        grant_type: EXCHANGE,
        audience: 'users',
        subject_token: subjectToken,
        subject_token_type: AT,
        ...extra,
      },
      ordersBasic(),
    );

  it.each([
    ['nothing changed (the control)', {}, 200],
    ['roles that are not a list', { roles: 'admin' }, 400],
    ['a lifetime longer than an access token may have', { exp: 'day' }, 400],
    // Exchanging a delegated token again would drop its actor from the chain.
    ['an act claim (already delegated)', { act: { sub: 'users' } }, 400],
    // Only a token addressed to the exchanging client (orders) may be exchanged by it.
    ['an audience without the exchanging client', { aud: ['auth', 'users'] }, 400],
  ])(
    "decides a subject token auth's key signed with %s as the resource servers' verifier does",
    async (_case, overrides: Record<string, unknown>, status) => {
      const user = await registerAndLogin(auth);
      const { payload } = decodeJwt(user.accessToken);
      const forged = await resigned(user.accessToken, {
        ...overrides,
        ...(overrides.exp === 'day' && { exp: Number(payload.iat) + 24 * 3600 }),
      });
      const response = await exchange(forged);
      expect(response.status).toBe(status);
      if (status === 400) expect((await response.json().then(asJson)).error).toBe('invalid_grant');
    },
  );

  it('turns a user token into a users token with act, the user as sub and a narrowed scope', async () => {
    const user = await registerAndLogin(auth);
    const response = await exchange(user.accessToken);
    expect(response.status).toBe(200);
    const body = await response.json().then(asJson);
    expect(body).toMatchObject({
      issued_token_type: AT,
      token_type: 'Bearer',
      scope: 'users:read',
    });
    const { payload } = decodeJwt(body.access_token);
    expect(payload).toMatchObject({
      sub: user.id,
      aud: 'users',
      act: { sub: 'orders' },
      client_id: 'orders',
      roles: ['customer'],
      region: 'eu',
      scope: 'users:read',
    });
    expect(Number(payload.exp) - Number(payload.iat)).toBeLessThanOrEqual(300);
  });

  it('never widens the scope beyond the user and the client', async () => {
    const user = await registerAndLogin(auth);
    const response = await exchange(user.accessToken, { scope: 'users:read users:write' });
    expect(response.status).toBe(400);
    expect((await response.json().then(asJson)).error).toBe('invalid_scope');
  });

  it("never grants a scope the user's token lacks, even one the client may have", async () => {
    const user = await registerAndLogin(auth);
    const { payload } = decodeJwt(user.accessToken);
    expect(String(payload.scope).split(' ')).toContain('users:read');
    const withoutUsersRead = await resigned(user.accessToken, {
      scope: String(payload.scope)
        .split(' ')
        .filter((scope) => scope !== 'users:read')
        .join(' '),
    });
    const response = await exchange(withoutUsersRead, { scope: 'users:read' });
    expect(response.status).toBe(400);
    expect((await response.json().then(asJson)).error).toBe('invalid_scope');
  });

  it('refuses a forged, foreign or revoked subject token with invalid_grant', async () => {
    const user = await registerAndLogin(auth);
    const [h, p, s] = user.accessToken.split('.');
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...decodeJwt(user.accessToken).payload, roles: ['admin'] })).toString('base64url')}.${s}`;
    expect((await (await exchange(tampered)).json().then(asJson)).error).toBe('invalid_grant');
    void p;
    const service = await (
      await postForm(
        `${auth.url}/oauth/token`,
        { grant_type: 'client_credentials', audience: 'users' },
        ordersBasic(),
      )
    )
      .json()
      .then(asJson);
    expect((await (await exchange(service.access_token)).json().then(asJson)).error).toBe(
      'invalid_grant',
    );
    await fetch(`${auth.url}/auth/logout`, {
      method: 'POST',
      headers: { cookie: `refresh_token=${user.refreshToken}` },
    });
    expect((await (await exchange(user.accessToken)).json().then(asJson)).error).toBe(
      'invalid_grant',
    );
  });

  it('revokes an access token by jti and broadcasts it; the exchange then refuses it', async () => {
    const user = await registerAndLogin(auth);
    const response = await postForm(`${auth.url}/oauth/revoke`, {
      token: user.accessToken,
      token_type_hint: 'access_token',
    });
    expect(response.status).toBe(200);
    const { jti } = decodeJwt(user.accessToken).payload;
    expect(await revocationEvents(auth)).toContainEqual({
      type: 'jti',
      jti,
      exp: expect.any(Number),
      at: expect.any(Number),
    });
    // A user token signs no NATS message: a 15-minute replay covers it.
    expect(await revocationEvents(auth, 'auth.revocations.stored')).not.toContainEqual(
      expect.objectContaining({ jti }),
    );
    const [row] = await auth.db.query(
      'SELECT expires_at FROM revoked_access_tokens WHERE jti = $1',
      [jti],
    );
    expect(row.expires_at.getTime()).toBe(
      (decodeJwt(user.accessToken).payload.exp as number) * 1000,
    );
    expect((await (await exchange(user.accessToken)).json().then(asJson)).error).toBe(
      'invalid_grant',
    );
  });

  it('marks a revoked events token as signing events and broadcasts it for stored messages too', async () => {
    const issued = await postForm(
      `${auth.url}/oauth/token`,
      { grant_type: 'client_credentials', audience: 'events', scope: 'events:publish' },
      basic('users', auth.usersSecret),
    );
    const token = (await issued.json().then(asJson)).access_token as string;
    const response = await postForm(
      `${auth.url}/oauth/revoke`,
      { token },
      basic('users', auth.usersSecret),
    );
    expect(response.status).toBe(200);
    const { jti, exp } = decodeJwt(token).payload as { jti: string; exp: number };
    const event = expect.objectContaining({ type: 'jti', jti, signsEvents: true });
    expect(await revocationEvents(auth)).toContainEqual(event);
    expect(await revocationEvents(auth, 'auth.revocations.stored')).toContainEqual(event);
    // auth's own event guard denies it as long: its row outlives the token by a stream's age.
    const [row] = await auth.db.query(
      'SELECT expires_at FROM revoked_access_tokens WHERE jti = $1',
      [jti],
    );
    const keepUntil = (exp + CLOCK_TOLERANCE_SECONDS) * 1000 + STREAM_MAX_AGE_MS;
    expect(row.expires_at.getTime()).toBe(keepUntil);
    // Revoked again: nothing new to tell the replicas (each broadcast costs every replica's replay).
    const again = await postForm(
      `${auth.url}/oauth/revoke`,
      { token },
      basic('users', auth.usersSecret),
    );
    expect(again.status).toBe(200);
    const events = await revocationEvents(auth);
    expect(events.filter((e) => e.jti === jti)).toHaveLength(1);
  });

  it('lengthens the row an older version kept only until the token expired', async () => {
    const issued = await postForm(
      `${auth.url}/oauth/token`,
      { grant_type: 'client_credentials', audience: 'events', scope: 'events:publish' },
      basic('users', auth.usersSecret),
    );
    const token = (await issued.json().then(asJson)).access_token as string;
    const { jti, exp } = decodeJwt(token).payload as { jti: string; exp: number };
    await auth.db.query('INSERT INTO revoked_access_tokens (jti, expires_at) VALUES ($1, $2)', [
      jti,
      new Date(exp * 1000),
    ]);
    const response = await postForm(
      `${auth.url}/oauth/revoke`,
      { token },
      basic('users', auth.usersSecret),
    );
    expect(response.status).toBe(200);
    const [row] = await auth.db.query(
      'SELECT expires_at FROM revoked_access_tokens WHERE jti = $1',
      [jti],
    );
    expect(row.expires_at.getTime()).toBe(
      (exp + CLOCK_TOLERANCE_SECONDS) * 1000 + STREAM_MAX_AGE_MS,
    );
  });

  it('refuses a client revoking a token issued to another client', async () => {
    const token = (
      await (
        await postForm(
          `${auth.url}/oauth/token`,
          { grant_type: 'client_credentials', audience: 'orders' },
          basic('users', auth.usersSecret),
        )
      )
        .json()
        .then(asJson)
    ).access_token;
    const response = await postForm(`${auth.url}/oauth/revoke`, { token }, ordersBasic());
    expect(response.status).toBe(400);
    expect((await response.json().then(asJson)).error).toBe('unauthorized_client');
  });

  it('answers 200 for an unknown token (RFC 7009 §2.2)', async () => {
    expect((await postForm(`${auth.url}/oauth/revoke`, { token: 'not-a-token' })).status).toBe(200);
  });
});

describe('signing keys', () => {
  const jwks = async () =>
    (await (await fetch(`${auth.url}/.well-known/jwks.json`)).json().then(asJson)) as {
      keys: Record<string, unknown>[];
    };
  const serviceToken = async () => {
    const response = await postForm(
      `${auth.url}/oauth/token`,
      { grant_type: 'client_credentials', audience: 'orders' },
      basic('users', auth.usersSecret),
    );
    return {
      status: response.status,
      token:
        response.status === 200
          ? ((await response.json().then(asJson)).access_token as string)
          : '',
    };
  };
  const retiredJwks = async () =>
    (await (await fetch(`${auth.url}/.well-known/retired-jwks.json`)).json().then(asJson)) as {
      keys: Record<string, unknown>[];
    };
  const eventsToken = async () => {
    const response = await postForm(
      `${auth.url}/oauth/token`,
      { grant_type: 'client_credentials', audience: 'events', scope: 'events:publish' },
      basic('users', auth.usersSecret),
    );
    expect(response.status).toBe(200);
    return { token: (await response.json().then(asJson)).access_token as string };
  };
  // A fresh admin token each time: these tests move the clock past a token's lifetime.
  const rotate = async () =>
    fetch(`${auth.url}/admin/keys/rotate`, {
      method: 'POST',
      headers: bearer(await adminToken(auth)),
    });

  it('publishes only public members', async () => {
    for (const key of (await jwks()).keys) {
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'])
        expect(key).not.toHaveProperty(member);
      expect(key).toMatchObject({ use: 'sig', alg: 'ES256' });
    }
  });

  it('stores private keys encrypted', async () => {
    const rows: { private_key: string }[] = await auth.db.query(
      'SELECT private_key FROM signing_keys WHERE retired_at IS NULL',
    );
    expect(rows).toHaveLength(2); // current and next
    for (const row of rows) {
      expect(row.private_key).toMatch(/^v1\./);
      expect(row.private_key).not.toContain('PRIVATE KEY');
    }
  });

  it('rotates: the next key (already published) signs, the old one stays published', async () => {
    const before = await jwks();
    const { token } = await serviceToken();
    const oldKid = decodeJwt(token).header.kid;
    expect((await rotate()).status).toBe(200);
    const after = await jwks();
    const { token: fresh } = await serviceToken();
    const newKid = decodeJwt(fresh).header.kid;
    expect(newKid).not.toBe(oldKid);
    expect(before.keys.map((key) => key.kid)).toContain(newKid);
    expect(after.keys.map((key) => key.kid)).toEqual(expect.arrayContaining([oldKid, newKid]));
    expect(after.keys).toHaveLength(3);
    await jwtVerify(token, createLocalJWKSet(after as never), {
      typ: 'at+jwt',
      audience: 'orders',
    });
  });

  it('deletes the private half at retirement and lists the key, with its signing period, as retired', async () => {
    const { token } = await serviceToken();
    const kid = decodeJwt(token).header.kid;
    expect((await retiredJwks()).keys.map((key) => key.kid)).not.toContain(kid);
    expect((await rotate()).status).toBe(200);
    const [row] = await auth.db.query(
      'SELECT private_key, activated_at, retired_at FROM signing_keys WHERE kid = $1',
      [kid],
    );
    expect(row.private_key).toBeNull();
    expect(row.retired_at).not.toBeNull();
    // A replica of the version before retires keys without deleting the private half (a
    // rolling deploy): the next rotation deletes it.
    await auth.db.query(`UPDATE signing_keys SET private_key = 'v1.left-over' WHERE kid = $1`, [
      kid,
    ]);
    expect((await rotate()).status).toBe(200);
    const [again] = await auth.db.query('SELECT private_key FROM signing_keys WHERE kid = $1', [
      kid,
    ]);
    expect(again.private_key).toBeNull();
    const published = (await jwks()).keys.find((key) => key.kid === kid);
    expect(published).toBeDefined(); // previous: its tokens are still valid
    const served = await fetch(`${auth.url}/.well-known/retired-jwks.json`);
    expect(served.headers.get('content-type')).toMatch(/^application\/jwk-set\+json\b/);
    expect(served.headers.get('cache-control')).toBe('no-store');
    const retired = ((await served.json()) as { keys: Record<string, unknown>[] }).keys;
    expect(retired.find((key) => key.kid === kid)).toEqual({
      ...published,
      iat: Math.floor(row.activated_at.getTime() / 1000),
      // a replica may sign with it until its next reload
      exp:
        Math.floor(row.retired_at.getTime() / 1000) + 2 * auth.config.KEY_RELOAD_INTERVAL_SECONDS,
    });
    for (const key of retired) {
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'])
        expect(key).not.toHaveProperty(member);
    }
    // The signing and next keys are not retired.
    const signing = decodeJwt((await serviceToken()).token).header.kid;
    expect(retired.map((key) => key.kid)).not.toContain(signing);
    expect(retired).toHaveLength(
      Number(
        (await auth.db.query('SELECT count(*) FROM signing_keys WHERE retired_at IS NOT NULL'))[0]
          .count,
      ),
    );
  });

  it('drops a retired key from the JWKS once every token it signed has expired; stored events it signed still verify', async () => {
    const { token } = await serviceToken();
    const kid = decodeJwt(token).header.kid;
    const { token: eventToken } = await eventsToken();
    expect(decodeJwt(eventToken).header.kid).toBe(kid);
    const storedAt = new Date(auth.clock.now());
    await rotate();
    auth.clock.advance(10 * 60 * 1000);
    await rotate();
    expect((await jwks()).keys.map((key) => key.kid)).toContain(kid);
    auth.clock.advance(10 * 60 * 1000);
    await rotate();
    expect((await jwks()).keys.map((key) => key.kid)).not.toContain(kid);
    expect((await retiredJwks()).keys.map((key) => key.kid)).toContain(kid);
    // auth's own consumer (EventTokenGuard) verifies a message stored before the rotation...
    const verifier = auth.app.get(TokenVerifier);
    const stored = { audience: 'events', currentDate: storedAt, allowRetiredKeys: true };
    await expect(verifier.verify(eventToken, stored)).resolves.toMatchObject({
      principal: { kind: 'service', clientId: 'users' },
    });
    // ...while a live request with it is refused for the key, not only for its age.
    await expect(
      verifier.verify(eventToken, { audience: 'events', currentDate: storedAt }),
    ).rejects.toMatchObject({ code: 'TOKEN_KEY_NOT_FOUND' });
  });

  it('answers 200 to a rotation that committed when the reload after it fails, and logs the error', async () => {
    const keys = auth.app.get(SigningKeyStore);
    const signingKid = async () =>
      (
        await auth.db.query(
          'SELECT kid FROM signing_keys WHERE activated_at IS NOT NULL AND retired_at IS NULL',
        )
      )[0].kid as string;
    const before = await signingKid();
    const failure = new Error('connection terminated unexpectedly');
    const reload = jest.spyOn(keys, 'reload').mockRejectedValue(failure);
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      expect((await rotate()).status).toBe(200);
      expect(warn).toHaveBeenCalledWith(
        { err: failure },
        'signing key reload failed: the keys loaded before stay in use',
      );
    } finally {
      reload.mockRestore();
      warn.mockRestore();
    }
    const after = await signingKid();
    expect(after).not.toBe(before);
    // The next reload catches up.
    await keys.reload();
    expect(keys.current().kid).toBe(after);
  });

  it('rotates under load without a failed request', async () => {
    let running = true;
    const results: { status: number; token: string }[] = [];
    const load = Array.from({ length: 4 }, async () => {
      while (running) results.push(await serviceToken());
    });
    const statuses: number[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        statuses.push((await rotate()).status);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      running = false;
      await Promise.all(load);
    }
    expect(statuses).toEqual([200, 200, 200]);
    expect(results.length).toBeGreaterThan(20);
    expect(results.filter((result) => result.status !== 200)).toEqual([]);
    const set = createLocalJWKSet((await jwks()) as never);
    for (const { token } of results)
      await jwtVerify(token, set, { typ: 'at+jwt', audience: 'orders' });
    expect(new Set(results.map(({ token }) => decodeJwt(token).header.kid)).size).toBeGreaterThan(
      1,
    );
  });

  it('keeps at most MAX_RETIRED_KEYS retired keys once they have left the JWKS, the newest', async () => {
    const [{ public_jwk: publicJwk }] = await auth.db.query(
      'SELECT public_jwk FROM signing_keys LIMIT 1',
    );
    const now = new Date(auth.clock.now());
    // More retired keys than the cap, one a minute, the newest retired an hour ago (out of the
    // JWKS, well within a week).
    const extra = 5;
    await auth.db.query(
      `INSERT INTO signing_keys (kid, alg, public_jwk, private_key, created_at, activated_at, retired_at)
       SELECT 'bulk-' || g, 'ES256', $1::jsonb || jsonb_build_object('kid', 'bulk-' || g), NULL,
              $2::timestamptz - make_interval(mins => g + 2),
              $2::timestamptz - make_interval(mins => g + 1),
              $2::timestamptz - make_interval(mins => g)
         FROM generate_series(60, 60 + $3::int - 1) AS g`,
      [publicJwk, now, MAX_RETIRED_KEYS + extra],
    );
    // Rows beyond the cap that no rotation has deleted yet (a replica of an older version) are
    // not served either.
    await auth.app.get(SigningKeyStore).reload();
    expect((await retiredJwks()).keys).toHaveLength(MAX_RETIRED_KEYS);
    const { token } = await serviceToken();
    const justRetired = decodeJwt(token).header.kid;
    const [{ retired }] = await auth.db.query(
      'SELECT count(*)::int AS retired FROM signing_keys WHERE retired_at IS NOT NULL',
    );
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      expect((await rotate()).status).toBe(200);
      // Keys a week of stored messages may need went (all of them younger than a week, plus
      // the one this rotation retired, minus the cap): the operator is told.
      expect(warn).toHaveBeenCalledWith(
        expect.objectContaining({
          dropped: retired + 1 - MAX_RETIRED_KEYS,
          maxRetiredKeys: MAX_RETIRED_KEYS,
        }),
        'retired keys dropped within a week: queued messages they signed will be refused',
      );
    } finally {
      warn.mockRestore();
    }
    const kids = async (sql: string) =>
      ((await auth.db.query(sql)) as { kid: string }[]).map((row) => row.kid);
    const retiredRows = await kids('SELECT kid FROM signing_keys WHERE retired_at IS NOT NULL');
    expect(retiredRows).toHaveLength(MAX_RETIRED_KEYS);
    expect(retiredRows).toContain(justRetired);
    expect(retiredRows).toContain('bulk-60');
    // The oldest went first.
    expect(retiredRows).not.toContain(`bulk-${60 + MAX_RETIRED_KEYS + extra - 1}`);
    const served = (await retiredJwks()).keys.map((key) => key.kid);
    expect(served).toHaveLength(MAX_RETIRED_KEYS);
    expect(served).toContain(justRetired);
    // A key still in the JWKS is never dropped, whatever the count: live tokens need it.
    await jwtVerify(token, createLocalJWKSet((await jwks()) as never), {
      typ: 'at+jwt',
      audience: 'orders',
    });
    await auth.db.query("DELETE FROM signing_keys WHERE kid LIKE 'bulk-%'");
    await auth.app.get(SigningKeyStore).reload();
  });

  it('never drops a key still in the JWKS, however many there are', async () => {
    const [{ public_jwk: publicJwk }] = await auth.db.query(
      'SELECT public_jwk FROM signing_keys LIMIT 1',
    );
    const now = new Date(auth.clock.now());
    // More keys than the cap, all retired within the last 100 s: every one still verifies
    // live tokens.
    const count = MAX_RETIRED_KEYS + 5;
    await auth.db.query(
      `INSERT INTO signing_keys (kid, alg, public_jwk, private_key, created_at, activated_at, retired_at)
       SELECT 'live-' || g, 'ES256', $1::jsonb || jsonb_build_object('kid', 'live-' || g), NULL,
              $2::timestamptz - interval '1 hour', $2::timestamptz - interval '1 hour',
              $2::timestamptz - make_interval(secs => g / 10.0)
         FROM generate_series(1, $3::int) AS g`,
      [publicJwk, now, count],
    );
    try {
      expect((await rotate()).status).toBe(200);
      const [{ kept }] = await auth.db.query(
        "SELECT count(*)::int AS kept FROM signing_keys WHERE kid LIKE 'live-%'",
      );
      expect(kept).toBe(count);
      expect((await jwks()).keys.map((key) => key.kid)).toContain(`live-${count}`);
    } finally {
      await auth.db.query("DELETE FROM signing_keys WHERE kid LIKE 'live-%'");
      await auth.app.get(SigningKeyStore).reload();
    }
  });

  // Last: it moves the clock a week on.
  it('deletes a retired key once no stream can still hold a message its tokens signed', async () => {
    const { token } = await eventsToken();
    const kid = decodeJwt(token).header.kid;
    const storedAt = new Date(auth.clock.now());
    await rotate();
    const keys = auth.app.get(SigningKeyStore);
    auth.clock.advance(keys.retiredRetentionMs - 60_000);
    await rotate();
    expect((await retiredJwks()).keys.map((key) => key.kid)).toContain(kid);
    auth.clock.advance(120_000);
    await rotate();
    expect((await retiredJwks()).keys.map((key) => key.kid)).not.toContain(kid);
    expect(await auth.db.query('SELECT 1 FROM signing_keys WHERE kid = $1', [kid])).toEqual([]);
    await expect(
      auth.app.get(TokenVerifier).verify(token, {
        audience: 'events',
        currentDate: storedAt,
        allowRetiredKeys: true,
      }),
    ).rejects.toMatchObject({ code: 'TOKEN_KEY_NOT_FOUND' });
    // Long enough for a message stored as late as a token of the key may be used, then kept as
    // long as the longest-kept stream (AUTH, whose revocations a starting replica replays).
    expect(keys.retiredRetentionMs).toBeGreaterThanOrEqual(
      AUTH_STREAM_MAX_AGE_MS + keys.retentionMs,
    );
  });
});
