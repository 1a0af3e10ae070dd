import { ensureStream, STREAMS } from '@app/platform';
import { Logger } from '@nestjs/common';
import { connect, headers as natsHeaders, type MsgHdrs, type NatsConnection } from 'nats';
import { randomUUID } from 'node:crypto';
import { AuditService } from '../src/audit/audit.service';
import { SigningKeyStore } from '../src/keys/signing-key.store';
import {
  asJson,
  basic,
  decodeJwt,
  postForm,
  postJson,
  startAuthTestApp,
  STRONG_PASSWORD,
  type AuthTestApp,
} from './support/auth-test-app';
import { login, registerAndLogin } from './support/users';
import { eventually } from '../../../test/support/eventually';

// Black-box checks of what auth puts on NATS and what it accepts from it (SPEC §5), on a real
// nats-server and PostgreSQL.
let auth: AuthTestApp;
let nc: NatsConnection;
const audited: unknown[] = [];

beforeAll(async () => {
  auth = await startAuthTestApp('auth_events');
  nc = await connect({ servers: auth.config.NATS_URL });
  await ensureStream(await nc.jetstreamManager(), STREAMS.USERS.name, [...STREAMS.USERS.subjects]);
  const logger = (auth.app.get(AuditService) as unknown as { logger: Logger }).logger;
  jest.spyOn(logger, 'log').mockImplementation((record) => void audited.push(record));
  jest.spyOn(logger, 'warn').mockImplementation((record) => void audited.push(record));
});
afterAll(async () => {
  await nc?.close();
  await auth?.close();
});

/** Resolves with the next message on `subject` that `match` accepts. */
function nextMessage(subject: string, match: (payload: Record<string, unknown>) => boolean) {
  const sub = nc.subscribe(subject);
  return new Promise<{ payload: Record<string, unknown>; headers: MsgHdrs }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nothing on ${subject}`)), 10_000);
    void (async () => {
      for await (const message of sub) {
        const payload = message.json<Record<string, unknown>>();
        if (match(payload) && message.headers) {
          clearTimeout(timer);
          sub.unsubscribe();
          resolve({ payload, headers: message.headers });
        }
      }
    })();
  });
}

async function serviceToken(clientId: 'users' | 'orders', audience = 'events') {
  const secret = clientId === 'users' ? auth.usersSecret : auth.ordersSecret;
  const response = await postForm(
    `${auth.url}/oauth/token`,
    { grant_type: 'client_credentials', audience },
    basic(clientId, secret),
  );
  return ((await response.json().then(asJson)) as { access_token: string }).access_token;
}

async function publishUserDeleted(userId: string, token?: string) {
  const headers = natsHeaders();
  if (token) headers.set('Authorization', `Bearer ${token}`);
  await nc.jetstream().publish('users.deleted', JSON.stringify({ userId }), {
    headers,
    msgID: randomUUID(),
  });
}

const identityExists = async (id: string) =>
  (await auth.db.query('SELECT 1 FROM identities WHERE id = $1', [id])).length === 1;

describe('auth.revocations', () => {
  it('carries auth’s own event token and a Nats-Msg-Id when a user logs out', async () => {
    const user = await registerAndLogin(auth, 'logout');
    const { sid } = decodeJwt(user.accessToken).payload;
    const received = nextMessage('auth.revocations', (p) => p.type === 'sid' && p.sid === sid);
    const response = await fetch(`${auth.url}/auth/logout`, {
      method: 'POST',
      headers: { cookie: `refresh_token=${user.refreshToken}`, 'sec-fetch-site': 'same-origin' },
    });
    expect(response.status).toBe(204);
    const { headers } = await received;
    expect(headers.get('Nats-Msg-Id')).toMatch(/\S/);
    const bearer = /^Bearer (\S+)$/.exec(headers.get('Authorization'));
    expect(bearer).not.toBeNull();
    const { header, payload } = decodeJwt(bearer![1]);
    expect(header).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    expect(payload).toMatchObject({
      client_id: 'auth',
      aud: 'events',
      iss: auth.config.AUTH_ISSUER,
    });
    expect(String(payload.scope).split(' ')).toContain('events:publish');
  });

  it('is published for RFC 7009 revocation of an access token', async () => {
    const access = await serviceToken('users', 'orders');
    const { jti } = decodeJwt(access).payload;
    const received = nextMessage('auth.revocations', (p) => p.type === 'jti' && p.jti === jti);
    const response = await postForm(
      `${auth.url}/oauth/revoke`,
      { token: access },
      basic('users', auth.usersSecret),
    );
    expect(response.status).toBe(200);
    const { headers } = await received;
    expect(headers.get('Authorization')).toMatch(/^Bearer /);
    expect(headers.get('Nats-Msg-Id')).toMatch(/\S/);
  });
});

describe('users.deleted', () => {
  it('revokes and deletes the credentials when users publishes it with its event token', async () => {
    const user = await registerAndLogin(auth, 'deleted');
    const revoked = nextMessage('auth.revocations', (p) => p.type === 'sub' && p.sub === user.id);
    await publishUserDeleted(user.id, await serviceToken('users'));
    await eventually(async () => !(await identityExists(user.id)));
    await revoked;
    const again = await postJson(`${auth.url}/auth/login`, {
      email: user.email,
      password: STRONG_PASSWORD,
    });
    expect(again.status).toBe(401);
  });

  it('changes nothing for a message without a token or from another publisher', async () => {
    const user = await registerAndLogin(auth, 'forged');
    await publishUserDeleted(user.id);
    await publishUserDeleted(user.id, await serviceToken('orders'));
    // A genuine message published after them is processed: once it is, the forged ones were seen.
    const witness = await registerAndLogin(auth, 'witness');
    await publishUserDeleted(witness.id, await serviceToken('users'));
    await eventually(async () => !(await identityExists(witness.id)));
    expect(await identityExists(user.id)).toBe(true);
    await expect(login(auth, user.email, STRONG_PASSWORD)).resolves.toMatchObject({
      email: user.email,
    });
  });

  it('processes a message whose token a key signed that auth has retired since', async () => {
    const user = await registerAndLogin(auth, 'retired-key');
    const token = await serviceToken('users');
    const kid = decodeJwt(token).header.kid;
    // Three rotations 20 minutes apart (by auth's clock): the key leaves the JWKS, and a
    // message carrying its token (stored now, while the token is valid) needs the retired set.
    const keys = auth.app.get(SigningKeyStore);
    await keys.rotate('manual');
    auth.clock.advance(10 * 60 * 1000);
    await keys.rotate('manual');
    auth.clock.advance(10 * 60 * 1000);
    await keys.rotate('manual');
    expect(keys.publishedKeys().keys.map((key) => key.kid)).not.toContain(kid);
    await publishUserDeleted(user.id, token);
    await eventually(async () => !(await identityExists(user.id)));
  });
});

describe('audit records', () => {
  it('never contain a password, secret, token or cookie value', async () => {
    const user = await registerAndLogin(auth, 'audit');
    await postJson(`${auth.url}/auth/login`, { email: user.email, password: 'wrong password 123' });
    await postForm(
      `${auth.url}/oauth/token`,
      { grant_type: 'client_credentials', audience: 'orders' },
      basic('users', 'not-the-secret-but-long-enough-to-look-real-xx'),
    );
    const token = await serviceToken('users');
    await fetch(`${auth.url}/auth/logout`, {
      method: 'POST',
      headers: { cookie: `refresh_token=${user.refreshToken}`, 'sec-fetch-site': 'same-origin' },
    });
    const secrets = [
      STRONG_PASSWORD,
      'wrong password 123',
      auth.usersSecret,
      auth.ordersSecret,
      auth.adminPassword,
      'not-the-secret-but-long-enough-to-look-real-xx',
      user.accessToken,
      user.refreshToken,
      token,
    ];
    const text = JSON.stringify(audited);
    expect(audited.length).toBeGreaterThan(3);
    for (const secret of secrets) expect(text).not.toContain(secret);
  });
});
