// KEY_ENCRYPTION_KEY rotation on one database, across three starts of auth: A; then B with
// KEY_ENCRYPTION_KEY_PREVIOUS=A (everything still works, and what A sealed moves to B); then B
// alone (nothing depends on A any more).
import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { createTestDatabase } from '../../../test/support/test-infra';
import { ClientSecretHasher } from '../src/clients/client-secret.hasher';
import { KeyEncryption } from '../src/keys/key-encryption';
import { totpCode } from '../src/mfa/totp';
import {
  asJson,
  basic,
  postForm,
  postJson,
  startAuthTestApp,
  STRONG_PASSWORD,
  type AuthTestApp,
  bearer,
} from './support/auth-test-app';
import { adminToken, enrolTotp, registerAndLogin } from './support/users';

const A = randomBytes(32);
const B = randomBytes(32);

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let auth: AuthTestApp | undefined;
const start = async (env: Record<string, string>) => {
  auth = await startAuthTestApp('auth_kek', env, { databaseUrl: database.url });
  return auth;
};
const stop = async () => {
  await auth?.close();
  auth = undefined;
};

beforeAll(async () => {
  database = await createTestDatabase('auth_kek');
});
afterAll(async () => {
  await stop();
  await database?.drop();
});

interface Fixture {
  email: string;
  userId: string;
  totpSecret: string;
  clientId: string;
  clientSecret: string;
  kids: string[];
}

async function jwksKids(app: AuthTestApp): Promise<string[]> {
  const body = await (await fetch(`${app.url}/.well-known/jwks.json`)).json().then(asJson);
  return (body.keys as { kid: string }[]).map((key) => key.kid).sort();
}

async function clientToken(app: AuthTestApp, fixture: Fixture): Promise<number> {
  const response = await postForm(
    `${app.url}/oauth/token`,
    { grant_type: 'client_credentials', audience: 'orders' },
    basic(fixture.clientId, fixture.clientSecret),
  );
  return response.status;
}

async function mfaLogin(app: AuthTestApp, fixture: Fixture): Promise<number> {
  const first = await postJson(`${app.url}/auth/login`, {
    email: fixture.email,
    password: STRONG_PASSWORD,
  });
  const { mfaToken } = await first.json().then(asJson);
  app.clock.advance(30_000); // a fresh TOTP step: each code is single use
  const second = await postJson(`${app.url}/auth/login/mfa`, {
    mfaToken,
    code: totpCode(fixture.totpSecret, app.clock.now()),
  });
  return second.status;
}

it('keeps signing keys, TOTP secrets and client secrets usable through a rotation', async () => {
  // 1. Key A: a user with TOTP, a client created through the admin API, the signing keys.
  const first = await start({ KEY_ENCRYPTION_KEY: A.toString('base64') });
  const user = await registerAndLogin(first, 'kek');
  const totpSecret = await enrolTotp(first, user);
  const created = await postJson(
    `${first.url}/admin/clients`,
    {
      client_name: 'inventory',
      scope: 'orders:read',
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_basic',
      audience: ['orders'],
    },
    bearer(await adminToken(first)),
  );
  expect(created.status).toBe(201);
  const client = await created.json().then(asJson);
  // A retired key too: it keeps its public half and has no private half left to reseal.
  const rotated = await fetch(`${first.url}/admin/keys/rotate`, {
    method: 'POST',
    headers: bearer(await adminToken(first)),
  });
  expect(rotated.status).toBe(200);
  const fixture: Fixture = {
    email: user.email,
    userId: user.id,
    totpSecret,
    clientId: client.client_id,
    clientSecret: client.client_secret,
    kids: await jwksKids(first),
  };
  expect(await clientToken(first, fixture)).toBe(200);
  await stop();

  // 2. Key B, A as the previous one: everything works, and what A sealed is sealed under B.
  const errors = jest.spyOn(Logger.prototype, 'error');
  const second = await start({
    KEY_ENCRYPTION_KEY: B.toString('base64'),
    KEY_ENCRYPTION_KEY_PREVIOUS: A.toString('base64'),
  });
  // Nothing was unreadable (the retired key's missing private half is not a ciphertext).
  expect(errors).not.toHaveBeenCalled();
  errors.mockRestore();
  const onlyB = new KeyEncryption(B);
  const keys: { kid: string; private_key: string }[] = await second.db.query(
    'SELECT kid, private_key FROM signing_keys WHERE private_key IS NOT NULL',
  );
  expect(keys).toHaveLength(2);
  for (const key of keys) expect(() => onlyB.decrypt(key.private_key, key.kid)).not.toThrow();
  const [identity] = await second.db.query('SELECT totp_secret FROM identities WHERE id = $1', [
    fixture.userId,
  ]);
  expect(onlyB.decrypt(identity.totp_secret, `totp:${fixture.userId}`)).toBe(fixture.totpSecret);
  expect(await jwksKids(second)).toEqual(fixture.kids);
  expect(await mfaLogin(second, fixture)).toBe(200);
  expect(await clientToken(second, fixture)).toBe(200);
  const [stored] = await second.db.query(
    'SELECT secret_hash FROM oauth_clients WHERE client_id = $1',
    [fixture.clientId],
  );
  expect(new ClientSecretHasher(onlyB).check(fixture.clientSecret, stored.secret_hash)).toBe(
    'match',
  );
  await stop();

  // 3. Key B alone.
  const third = await start({ KEY_ENCRYPTION_KEY: B.toString('base64') });
  expect(await jwksKids(third)).toEqual(fixture.kids);
  expect(await clientToken(third, fixture)).toBe(200);
  third.clock.advance(60_000); // past the step the second start used (each start's clock begins at now)
  expect(await mfaLogin(third, fixture)).toBe(200);
  // A wrong secret is still refused, under either key.
  expect(
    await clientToken(third, { ...fixture, clientSecret: randomBytes(32).toString('base64url') }),
  ).toBe(401);
});

it('without the previous key, what A sealed is unreadable (the rotation needs both values)', async () => {
  const sealed = new KeyEncryption(A).encrypt('totp secret', 'totp:x');
  expect(() => new KeyEncryption(B).decrypt(sealed, 'totp:x')).toThrow();
  expect(new KeyEncryption(B, A).decrypt(sealed, 'totp:x')).toBe('totp secret');
});
