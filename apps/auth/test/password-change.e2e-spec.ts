import {
  decodeJwt,
  postJson,
  refreshCookieOf,
  startAuthTestApp,
  STRONG_PASSWORD,
  type AuthTestApp,
  bearer,
} from './support/auth-test-app';
import { IdentitiesService } from '../src/identities/identities.service';
import { MfaChallengeService } from '../src/mfa/mfa-challenge.service';
import { RevocationService } from '../src/revocations/revocation.service';
import { RefreshTokenFamily } from '../src/sessions/refresh-token-family';
import { AuthEventsListener } from './support/nats-listener';
import { login, refresh, registerAndLogin, revocationEvents } from './support/users';

// POST /auth/password (README "Endpoints": 204; other sessions and all older access tokens
// revoked). IdentitiesService.changePassword keeps the refresh family of the session that made
// the change (its sid); every other family ends, and a `sub` revocation covers every access
// token issued before it, the caller's included.
let auth: AuthTestApp;
let events: AuthEventsListener;

beforeAll(async () => {
  auth = await startAuthTestApp('auth_password');
  events = await AuthEventsListener.start(auth.config.NATS_URL);
});
afterAll(async () => {
  await events?.close();
  await auth?.close();
});

const NEW_PASSWORD = 'a completely new passphrase 9';
const changePassword = (token: string, currentPassword: string, newPassword: string) =>
  postJson(`${auth.url}/auth/password`, { currentPassword, newPassword }, bearer(token));
const loginStatus = async (email: string, password: string) =>
  (await postJson(`${auth.url}/auth/login`, { email, password })).status;
/** 400 once auth's guard accepted the token (the body is invalid), 401 when it refused it. */
/** What a login reads of the account: revocations raise it. */
const tokensValidAfter = async (userId: string) =>
  Number(
    (await auth.db.query('SELECT tokens_valid_after FROM identities WHERE id = $1', [userId]))[0]
      .tokens_valid_after,
  );
const acceptedByAuth = async (token: string) => {
  const response = await postJson(`${auth.url}/auth/password`, {}, bearer(token));
  expect([400, 401]).toContain(response.status);
  return response.status === 400;
};

describe('password change', () => {
  it('ends every other session, keeps the current one, revokes older tokens and swaps the password', async () => {
    const current = await registerAndLogin(auth, 'pw');
    const other = await login(auth, current.email, STRONG_PASSWORD);
    const third = await login(auth, current.email, STRONG_PASSWORD);
    const iat = Number(decodeJwt(current.accessToken).payload.iat);

    const response = await changePassword(current.accessToken, STRONG_PASSWORD, NEW_PASSWORD);
    expect(response.status).toBe(204);

    // Every other session: its refresh cookie and its access token are dead.
    for (const session of [other, third]) {
      expect((await refresh(auth, session.refreshToken)).status).toBe(401);
      expect(await acceptedByAuth(session.accessToken)).toBe(false);
    }
    // The current session goes on: its refresh cookie still refreshes, and the access token it
    // gets is accepted. Its own pre-change access token is covered by the sub revocation.
    expect(await acceptedByAuth(current.accessToken)).toBe(false);
    const refreshed = await refresh(auth, current.refreshToken);
    expect(refreshed.status).toBe(200);
    const { accessToken } = (await refreshed.json()) as { accessToken: string };
    expect(decodeJwt(accessToken).payload.sid).toBe(decodeJwt(current.accessToken).payload.sid);
    expect(await acceptedByAuth(accessToken)).toBe(true);
    expect((await refresh(auth, refreshCookieOf(refreshed)!)).status).toBe(200);

    const revocation = await events.waitFor(
      'auth.revocations',
      (p) => p.type === 'sub' && p.sub === current.id,
    );
    expect(Number(revocation.payload.at)).toBeGreaterThan(iat);
    // And one sid event per ended session: a refresh of theirs in flight during the change
    // issues its token after `at`, where the sub event (iat < at) does not reach.
    const endedSids = (await revocationEvents(auth))
      .filter((event) => event.type === 'sid')
      .map((event) => event.sid);
    const sidOf = (session: { accessToken: string }) => decodeJwt(session.accessToken).payload.sid;
    expect(endedSids).toEqual(expect.arrayContaining([sidOf(other), sidOf(third)]));
    expect(endedSids).not.toContain(sidOf(current));
    expect(revocation.authorization).toMatch(/^Bearer \S+$/);

    expect(await loginStatus(current.email, STRONG_PASSWORD)).toBe(401);
    expect(await loginStatus(current.email, NEW_PASSWORD)).toBe(200);
  });

  it('with a wrong current password answers 4xx and changes nothing', async () => {
    const user = await registerAndLogin(auth, 'pw-wrong');
    const other = await login(auth, user.email, STRONG_PASSWORD);
    const outboxBefore = await revocationEvents(auth);

    const response = await changePassword(user.accessToken, 'not my password at all', NEW_PASSWORD);
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(response.status).toBe(403);

    // Nothing revoked: no event written for this user, both sessions and tokens still work.
    const outboxAfter = await revocationEvents(auth);
    expect(outboxAfter.filter((event) => event.sub === user.id)).toEqual([]);
    expect(outboxAfter).toHaveLength(outboxBefore.length);
    expect(await acceptedByAuth(user.accessToken)).toBe(true);
    expect(await acceptedByAuth(other.accessToken)).toBe(true);
    expect((await refresh(auth, other.refreshToken)).status).toBe(200);
    expect((await refresh(auth, user.refreshToken)).status).toBe(200);
    // The password is unchanged.
    expect(await loginStatus(user.email, NEW_PASSWORD)).toBe(401);
    expect(await loginStatus(user.email, STRONG_PASSWORD)).toBe(200);
    expect(events.received.filter((m) => m.payload.sub === user.id)).toEqual([]);
  });
  it('evaluates at most 5 wrong current passwords when they arrive all at once', async () => {
    const user = await registerAndLogin(auth, 'pw-burst');
    const statuses = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        changePassword(user.accessToken, `not my password ${i}`, NEW_PASSWORD).then(
          (response) => response.status,
        ),
      ),
    );
    expect(statuses.filter((status) => status === 403)).toHaveLength(5);
    expect(statuses.filter((status) => status === 429)).toHaveLength(3);
  });
  it('does not let the hash upgrade of a login that read the old hash undo a password change', async () => {
    const user = await registerAndLogin(auth, 'rehash');
    const identities = auth.app.get(IdentitiesService);
    // A login verified the old password against this row, then the change committed.
    const readByLogin = (await identities.findById(user.id))!;
    expect((await changePassword(user.accessToken, STRONG_PASSWORD, NEW_PASSWORD)).status).toBe(
      204,
    );
    const changed = (await identities.findById(user.id))!.passwordHash;
    await identities.rehash(readByLogin, STRONG_PASSWORD);
    expect((await identities.findById(user.id))!.passwordHash).toBe(changed);
    expect(await loginStatus(user.email, STRONG_PASSWORD)).toBe(401);
    expect(await loginStatus(user.email, NEW_PASSWORD)).toBe(200);
  });

  it('starts no session from a login that read the account before a password change', async () => {
    const user = await registerAndLogin(auth, 'pw-overtaken');
    const families = auth.app.get(RefreshTokenFamily);
    // A login reads the identity and checks the password...
    const seenByLogin = await tokensValidAfter(user.id);
    // ...the owner changes the password meanwhile...
    expect((await changePassword(user.accessToken, STRONG_PASSWORD, NEW_PASSWORD)).status).toBe(
      204,
    );
    // ...and only then would the login's session start: it must not.
    expect(await families.start(user.id, ['pwd'], 0, seenByLogin)).toBeNull();
    expect(
      await families.start(user.id, ['pwd'], 0, await tokensValidAfter(user.id)),
    ).not.toBeNull();
  });
  it('tells a login apart from two revocations within one second', async () => {
    const user = await registerAndLogin(auth, 'pw-twice');
    const revocations = auth.app.get(RevocationService);
    const revoke = () =>
      auth.db.transaction((manager) => revocations.revokeUser(manager, user.id, 'test'));
    // The clock stands still: both revocations fall in the same second.
    await revoke();
    const seenByLogin = await tokensValidAfter(user.id);
    await revoke();
    expect(await tokensValidAfter(user.id)).toBeGreaterThan(seenByLogin);
    expect(
      await auth.app.get(RefreshTokenFamily).start(user.id, ['pwd'], 0, seenByLogin),
    ).toBeNull();
    expect(
      await auth.app.get(MfaChallengeService).createChallenge(user.id, seenByLogin),
    ).toBeNull();
  });
});
