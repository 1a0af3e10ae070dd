import { eventually } from '../../../test/support/eventually';
import { DataSource } from 'typeorm';
import { AuditService } from '../src/audit/audit.service';
import { Identity } from '../src/identities/identity.entity';
import { KeyEncryption } from '../src/keys/key-encryption';
import { TotpEnrolmentService } from '../src/mfa/totp-enrolment.service';
import { newTotpSecret, totpCode } from '../src/mfa/totp';
import {
  asJson,
  bearer,
  decodeJwt,
  postJson,
  startAuthTestApp,
  STRONG_PASSWORD,
  type AuthTestApp,
} from './support/auth-test-app';
import {
  adminToken,
  enrolTotp,
  enrolTotpWithRecoveryCodes,
  login,
  refresh,
  registerAndLogin,
  revocationEvents,
  type LoggedInUser,
} from './support/users';

let auth: AuthTestApp;
beforeAll(async () => {
  auth = await startAuthTestApp('auth_mfa');
});
afterAll(async () => auth?.close());

const startLogin = async (user: LoggedInUser) => {
  const response = await postJson(`${auth.url}/auth/login`, {
    email: user.email,
    password: STRONG_PASSWORD,
  });
  expect(response.status).toBe(200);
  const body = await response.json().then(asJson);
  expect(body).toEqual({ mfaRequired: true, mfaToken: expect.any(String) });
  expect(response.headers.getSetCookie()).toEqual([]);
  return body.mfaToken as string;
};

it('stores the TOTP secret encrypted', async () => {
  const user = await registerAndLogin(auth, 'enc');
  const secret = await enrolTotp(auth, user);
  const [row] = await auth.db.query('SELECT totp_secret FROM identities WHERE id = $1', [user.id]);
  expect(row.totp_secret).toMatch(/^v1\./);
  expect(row.totp_secret).not.toContain(secret);
});

it('requires the second factor and puts otp in amr with auth_time of the login', async () => {
  const user = await registerAndLogin(auth, 'mfa');
  const secret = await enrolTotp(auth, user);
  const mfaToken = await startLogin(user);
  const response = await postJson(`${auth.url}/auth/login/mfa`, {
    mfaToken,
    code: totpCode(secret, auth.clock.now()),
  });
  expect(response.status).toBe(200);
  const { payload } = decodeJwt((await response.json().then(asJson)).accessToken);
  expect(payload.amr).toEqual(['pwd', 'otp', 'mfa']);
  expect(Math.abs(Number(payload.auth_time) - auth.clock.now() / 1000)).toBeLessThan(3);
});

it('accepts a code once: the same code cannot log in twice', async () => {
  const user = await registerAndLogin(auth, 'once');
  const secret = await enrolTotp(auth, user);
  const code = totpCode(secret, auth.clock.now());
  const first = await postJson(`${auth.url}/auth/login/mfa`, {
    mfaToken: await startLogin(user),
    code,
  });
  expect(first.status).toBe(200);
  const second = await postJson(`${auth.url}/auth/login/mfa`, {
    mfaToken: await startLogin(user),
    code,
  });
  expect(second.status).toBe(401);
});

it('an mfaToken is single use', async () => {
  const user = await registerAndLogin(auth, 'token');
  const secret = await enrolTotp(auth, user);
  const mfaToken = await startLogin(user);
  expect(
    (
      await postJson(`${auth.url}/auth/login/mfa`, {
        mfaToken,
        code: totpCode(secret, auth.clock.now()),
      })
    ).status,
  ).toBe(200);
  auth.clock.advance(30_000);
  expect(
    (
      await postJson(`${auth.url}/auth/login/mfa`, {
        mfaToken,
        code: totpCode(secret, auth.clock.now()),
      })
    ).status,
  ).toBe(401);
});

it('limits guesses: after 5 wrong codes the right one gets 429', async () => {
  const user = await registerAndLogin(auth, 'guess');
  const secret = await enrolTotp(auth, user);
  const right = totpCode(secret, auth.clock.now());
  const wrong = right === '000000' ? '111111' : '000000';
  for (let i = 0; i < 5; i++) {
    const response = await postJson(`${auth.url}/auth/login/mfa`, {
      mfaToken: await startLogin(user),
      code: wrong,
    });
    expect(response.status).toBe(401);
  }
  const blocked = await postJson(`${auth.url}/auth/login/mfa`, {
    mfaToken: await startLogin(user),
    code: right,
  });
  expect(blocked.status).toBe(429);
  expect(blocked.headers.get('retry-after')).toBeTruthy();
});

it('evaluates at most 5 wrong codes when they arrive all at once, over several challenges', async () => {
  const user = await registerAndLogin(auth, 'burst');
  const secret = await enrolTotp(auth, user);
  const right = totpCode(secret, auth.clock.now());
  const wrong = right === '000000' ? '111111' : '000000';
  // Three codes per challenge: within each challenge's own limit, so only the account limit
  // stands between the burst and the nine guesses.
  const challenges = [await startLogin(user), await startLogin(user), await startLogin(user)];
  const statuses = await Promise.all(
    challenges.flatMap((mfaToken) =>
      [0, 1, 2].map(() =>
        postJson(`${auth.url}/auth/login/mfa`, { mfaToken, code: wrong }).then((r) => r.status),
      ),
    ),
  );
  expect(statuses.filter((status) => status === 401)).toHaveLength(5);
  expect(statuses.filter((status) => status === 429)).toHaveLength(4);
});

it('evaluates at most 5 wrong enrolment codes when they arrive all at once', async () => {
  const user = await registerAndLogin(auth, 'enrol-burst');
  const setup = await fetch(`${auth.url}/auth/mfa/totp/setup`, {
    method: 'POST',
    headers: { authorization: `Bearer ${user.accessToken}` },
  });
  const { secret } = await setup.json().then(asJson);
  const right = totpCode(secret as string, auth.clock.now());
  const wrong = right === '000000' ? '111111' : '000000';
  const statuses = await Promise.all(
    Array.from({ length: 8 }, () =>
      postJson(
        `${auth.url}/auth/mfa/totp/confirm`,
        { code: wrong },
        { authorization: `Bearer ${user.accessToken}` },
      ).then((response) => response.status),
    ),
  );
  expect(statuses.filter((status) => status === 400)).toHaveLength(5);
  expect(statuses.filter((status) => status === 429)).toHaveLength(3);
});

it('refuses the second factor of a login whose password was changed in between', async () => {
  const user = await registerAndLogin(auth, 'changed');
  const secret = await enrolTotp(auth, user);
  const mfaToken = await startLogin(user);
  // The owner, in another session, changes the password the login was checked against.
  const changed = await postJson(
    `${auth.url}/auth/password`,
    { currentPassword: STRONG_PASSWORD, newPassword: 'a completely new passphrase 9' },
    { authorization: `Bearer ${user.accessToken}` },
  );
  expect(changed.status).toBe(204);
  auth.clock.advance(30_000);
  const response = await postJson(`${auth.url}/auth/login/mfa`, {
    mfaToken,
    code: totpCode(secret, auth.clock.now()),
  });
  expect(response.status).toBe(401);
  expect(response.headers.getSetCookie()).toEqual([]);
});

describe('TOTP enrolment', () => {
  const setup = (user: LoggedInUser) =>
    fetch(`${auth.url}/auth/mfa/totp/setup`, { method: 'POST', headers: bearer(user.accessToken) });
  const confirm = (user: LoggedInUser, secret: string) =>
    postJson(
      `${auth.url}/auth/mfa/totp/confirm`,
      { code: totpCode(secret, auth.clock.now()) },
      bearer(user.accessToken),
    );
  const totpColumns = async (id: string) =>
    (
      await auth.db.query('SELECT totp_secret, totp_pending_secret FROM identities WHERE id = $1', [
        id,
      ])
    )[0];
  const expectStepUp = async (response: Response) => {
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer realm="auth", error="insufficient_user_authentication", ' +
        'error_description="a more recent authentication is required", max_age=300',
    );
    expect((await response.json().then(asJson)).error.code).toBe(
      'INSUFFICIENT_USER_AUTHENTICATION',
    );
  };

  it('refuses setup with a token whose login is more than 5 minutes old (RFC 9470 step-up)', async () => {
    const user = await registerAndLogin(auth, 'stale-setup');
    auth.clock.advance(301_000);
    await expectStepUp(await setup(user));
    expect(await totpColumns(user.id)).toEqual({ totp_secret: null, totp_pending_secret: null });
  });

  it('accepts setup with a token whose login is exactly 5 minutes old, not a millisecond more', async () => {
    // auth's clock is frozen on a whole second, so the login's auth_time is exactly that second
    // and the age the guard sees is exactly what the test moves the clock by.
    const loggedInAt = Math.floor(auth.clock.now() / 1000) * 1000;
    const now = jest.spyOn(auth.clock, 'now').mockReturnValue(loggedInAt);
    try {
      const user = await registerAndLogin(auth, 'boundary-setup');
      expect(decodeJwt(user.accessToken).payload.auth_time).toBe(loggedInAt / 1000);
      now.mockReturnValue(loggedInAt + 300_000);
      const response = await setup(user);
      expect(response.status).toBe(200);
      expect((await totpColumns(user.id)).totp_pending_secret).toMatch(/^v1\./);
      now.mockReturnValue(loggedInAt + 300_001);
      await expectStepUp(await setup(user));
    } finally {
      now.mockRestore();
      auth.clock.advance(300_001); // auth's clock never runs backwards for the next tests
    }
  });

  it('refuses confirm with a token whose login is more than 5 minutes old; a new login can confirm', async () => {
    const user = await registerAndLogin(auth, 'stale-confirm');
    const { secret } = await (await setup(user)).json().then(asJson);
    auth.clock.advance(301_000);
    await expectStepUp(await confirm(user, secret));
    expect((await totpColumns(user.id)).totp_secret).toBeNull();
    const again = { ...user, ...(await login(auth, user.email, STRONG_PASSWORD)) };
    expect((await confirm(again, secret)).status).toBe(200);
  });

  it('never replaces an active secret: a pending one written beside it is refused with 409', async () => {
    const user = await registerAndLogin(auth, 'replace');
    await enrolTotp(auth, user);
    const active = (await totpColumns(user.id)).totp_secret;
    expect((await setup(user)).status).toBe(409);
    // What an older version's setup left when it read the row just before a confirm committed
    // (setup no longer writes beside an active secret; confirm still refuses it).
    const intruder = newTotpSecret();
    await auth.db.query('UPDATE identities SET totp_pending_secret = $2 WHERE id = $1', [
      user.id,
      auth.app.get(KeyEncryption).encrypt(intruder, `totp:${user.id}`),
    ]);
    const response = await confirm(user, intruder);
    expect(response.status).toBe(409);
    expect((await response.json().then(asJson)).error.code).toBe('CONFLICT');
    expect((await totpColumns(user.id)).totp_secret).toBe(active);
  });

  it('a confirm waits for the row lock, then refuses with 409 the secret activated meanwhile', async () => {
    const user = await registerAndLogin(auth, 'row-lock');
    // The pending secret of this setup is the one a late confirm brings (an intruder's).
    const { secret: intruder } = await (await setup(user)).json().then(asJson);
    const owner = newTotpSecret();
    const encryption = auth.app.get(KeyEncryption);
    const held = auth.db.createQueryRunner();
    await held.connect();
    try {
      // This transaction plays the owner's confirm, which got the row first.
      await held.startTransaction();
      await held.query('SELECT id FROM identities WHERE id = $1 FOR UPDATE', [user.id]);
      const [{ pid }] = await held.query('SELECT pg_backend_pid() AS pid');
      let answered = false;
      const intruderConfirm = confirm(user, intruder).finally(() => {
        answered = true;
      });
      // The late confirm must be queued behind that row lock (not have answered already).
      await eventually(
        async () =>
          answered ||
          (
            await auth.db.query(
              `SELECT 1 FROM pg_stat_activity
                WHERE wait_event_type = 'Lock' AND $1 = ANY(pg_blocking_pids(pid))`,
              [pid],
            )
          ).length > 0,
        10_000,
        10,
        'a backend waiting on the held identity row',
      );
      expect(answered).toBe(false);
      // The owner's secret becomes active; the intruder's stays pending beside it.
      await held.query('UPDATE identities SET totp_secret = $2 WHERE id = $1', [
        user.id,
        encryption.encrypt(owner, `totp:${user.id}`),
      ]);
      await held.commitTransaction();
      const response = await intruderConfirm;
      expect(response.status).toBe(409);
      expect((await response.json().then(asJson)).error.code).toBe('CONFLICT');
      const { totp_secret } = await totpColumns(user.id);
      expect(encryption.decrypt(totp_secret, `totp:${user.id}`)).toBe(owner);
    } finally {
      if (held.isTransactionActive) await held.rollbackTransaction();
      await held.release();
    }
  });
});

describe('recovery codes', () => {
  const loginWith = async (user: LoggedInUser, code: string) =>
    postJson(`${auth.url}/auth/login/mfa`, { mfaToken: await startLogin(user), code });
  /** How many recovery codes the user has stored, or has used. */
  const codesOf = async (userId: string, which: 'all' | 'used') =>
    (
      await auth.db.query(
        `SELECT count(*)::int AS n FROM mfa_recovery_codes
          WHERE identity_id = $1 AND ($2 = 'all' OR used_at IS NOT NULL)`,
        [userId, which],
      )
    )[0].n as number;
  const regenerate = (token: string) =>
    fetch(`${auth.url}/auth/mfa/totp/recovery-codes`, {
      method: 'POST',
      headers: bearer(token),
    });

  it('hands out ten distinct 120-bit codes with the confirmation, and stores only their hashes', async () => {
    const user = await registerAndLogin(auth, 'codes');
    const { recoveryCodes } = await enrolTotpWithRecoveryCodes(auth, user);
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    for (const code of recoveryCodes) expect(code).toMatch(/^[a-z2-7]{4}(-[a-z2-7]{4}){5}$/);
    const rows: { code_hash: Buffer; used_at: Date | null }[] = await auth.db.query(
      'SELECT code_hash, used_at FROM mfa_recovery_codes WHERE identity_id = $1',
      [user.id],
    );
    expect(rows).toHaveLength(10);
    const stored = rows.map((row) => row.code_hash.toString('latin1')).join();
    for (const code of recoveryCodes) {
      expect(stored).not.toContain(code);
      expect(stored).not.toContain(code.replace(/-/g, ''));
    }
  });

  it('logs in once per code, in place of a TOTP code, with amr otp; a used code is refused', async () => {
    const user = await registerAndLogin(auth, 'recover');
    const { recoveryCodes } = await enrolTotpWithRecoveryCodes(auth, user);
    const first = await loginWith(user, recoveryCodes[3]);
    expect(first.status).toBe(200);
    const { accessToken } = await first.json().then(asJson);
    expect(decodeJwt(accessToken as string).payload.amr).toEqual(['pwd', 'otp', 'mfa']);
    expect((await loginWith(user, recoveryCodes[3])).status).toBe(401);
    // Typed in capitals and without dashes, another code still works.
    const typed = recoveryCodes[4].toUpperCase().replace(/-/g, '');
    expect((await loginWith(user, typed)).status).toBe(200);
    expect(await codesOf(user.id, 'used')).toBe(2);
  });

  it("refuses another user's code, and counts a wrong code as a failed guess", async () => {
    const owner = await registerAndLogin(auth, 'code-owner');
    const other = await registerAndLogin(auth, 'code-other');
    const { recoveryCodes } = await enrolTotpWithRecoveryCodes(auth, owner);
    await enrolTotp(auth, other);
    const mfaToken = await startLogin(other);
    const response = await postJson(`${auth.url}/auth/login/mfa`, {
      mfaToken,
      code: recoveryCodes[0],
    });
    expect(response.status).toBe(401);
    const [challenge] = await auth.db.query(
      'SELECT failures FROM mfa_challenges WHERE identity_id = $1',
      [other.id],
    );
    expect(challenge.failures).toBe(1);
    // The owner's code was not used up by the attempt.
    expect((await loginWith(owner, recoveryCodes[0])).status).toBe(200);
  });

  it('spends one code of two logins racing on one mfaToken: one logs in, the other is refused', async () => {
    const user = await registerAndLogin(auth, 'double-submit');
    const { recoveryCodes } = await enrolTotpWithRecoveryCodes(auth, user);
    const mfaToken = await startLogin(user);
    const statuses = await Promise.all(
      [recoveryCodes[0], recoveryCodes[1]].map((code) =>
        postJson(`${auth.url}/auth/login/mfa`, { mfaToken, code }).then((r) => r.status),
      ),
    );
    expect(statuses.sort()).toEqual([200, 401]);
    expect(await codesOf(user.id, 'used')).toBe(1);
  });

  it('burns the challenge after 3 wrong recovery codes, as after 3 wrong TOTP codes', async () => {
    const user = await registerAndLogin(auth, 'burn-recovery');
    const { recoveryCodes } = await enrolTotpWithRecoveryCodes(auth, user);
    const mfaToken = await startLogin(user);
    const wrong = 'aaaa-aaaa-aaaa-aaaa-aaaa-aaaa';
    for (let i = 0; i < 3; i++) {
      expect((await postJson(`${auth.url}/auth/login/mfa`, { mfaToken, code: wrong })).status).toBe(
        401,
      );
    }
    const right = await postJson(`${auth.url}/auth/login/mfa`, {
      mfaToken,
      code: recoveryCodes[0],
    });
    expect(right.status).toBe(401);
    // Refused before the code was looked at: it is still there for the next login.
    expect((await loginWith(user, recoveryCodes[0])).status).toBe(200);
  });

  it('refuses a code for a disabled account, and leaves it unused', async () => {
    const user = await registerAndLogin(auth, 'disabled-codes');
    const { recoveryCodes } = await enrolTotpWithRecoveryCodes(auth, user);
    const mfaToken = await startLogin(user);
    // Written directly: disabling through the API also ends the waiting login.
    await auth.db.query('UPDATE identities SET disabled = true WHERE id = $1', [user.id]);
    const response = await postJson(`${auth.url}/auth/login/mfa`, {
      mfaToken,
      code: recoveryCodes[0],
    });
    expect(response.status).toBe(401);
    expect(await codesOf(user.id, 'used')).toBe(0);
  });

  it('audits a login with a recovery code, and never a code itself', async () => {
    const user = await registerAndLogin(auth, 'audit-codes');
    const record = jest.spyOn(auth.app.get(AuditService), 'record');
    try {
      const { recoveryCodes } = await enrolTotpWithRecoveryCodes(auth, user);
      expect((await loginWith(user, recoveryCodes[2])).status).toBe(200);
      expect(record).toHaveBeenCalledWith('mfa_recovery_codes', 'success', {
        userId: user.id,
        reason: 'used',
      });
      const audited = JSON.stringify(record.mock.calls);
      for (const code of recoveryCodes) {
        expect(audited).not.toContain(code);
        expect(audited).not.toContain(code.replace(/-/g, ''));
      }
    } finally {
      record.mockRestore();
    }
  });

  it('refuses a code that is neither 6 digits nor a recovery code with 400', async () => {
    const user = await registerAndLogin(auth, 'code-shape');
    await enrolTotp(auth, user);
    for (const code of [
      'abcd-efgh-ijkl-mnop-qrst-uvw1',
      'abcd-efgh-ijkl-mnop',
      '12345',
      'abcd efgh ijkl mnop qrst uvwx',
    ]) {
      const response = await loginWith(user, code);
      expect({ code, status: response.status }).toEqual({ code, status: 400 });
    }
  });

  it('regenerates the set with a fresh login only, and the old codes stop working', async () => {
    const user = await registerAndLogin(auth, 'regenerate');
    const { recoveryCodes: old } = await enrolTotpWithRecoveryCodes(auth, user);
    const fresh = await loginWith(user, old[0]);
    const { accessToken } = await fresh.json().then(asJson);
    const response = await regenerate(accessToken as string);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const { recoveryCodes } = (await response.json()) as { recoveryCodes: string[] };
    expect(recoveryCodes).toHaveLength(10);
    expect(recoveryCodes).not.toContain(old[1]);
    expect((await loginWith(user, old[1])).status).toBe(401);
    expect((await loginWith(user, recoveryCodes[1])).status).toBe(200);
    // RFC 9470 step-up: a login more than 5 minutes old may not mint codes.
    auth.clock.advance(301_000);
    const stale = await regenerate(accessToken as string);
    expect(stale.status).toBe(401);
    expect(stale.headers.get('www-authenticate')).toContain(
      'error="insufficient_user_authentication"',
    );
  });

  it('answers 409 to a user without TOTP, and creates no code', async () => {
    const user = await registerAndLogin(auth, 'no-factor');
    expect((await regenerate(user.accessToken)).status).toBe(409);
    expect(await codesOf(user.id, 'all')).toBe(0);
  });

  it('go with an admin TOTP reset: a code from before it does not complete a login after re-enrolment', async () => {
    const user = await registerAndLogin(auth, 'reset-codes');
    const { recoveryCodes } = await enrolTotpWithRecoveryCodes(auth, user);
    expect(
      (
        await fetch(`${auth.url}/admin/users/${user.id}/totp`, {
          method: 'DELETE',
          headers: bearer(await adminToken(auth)),
        })
      ).status,
    ).toBe(204);
    expect(await codesOf(user.id, 'all')).toBe(0);
    const fresh = await login(auth, user.email, STRONG_PASSWORD);
    await enrolTotp(auth, { ...user, accessToken: fresh.accessToken });
    expect((await loginWith(user, recoveryCodes[0])).status).toBe(401);
  });
});

describe('admin TOTP reset (DELETE /admin/users/:id/totp)', () => {
  const reset = (id: string, token: string) =>
    fetch(`${auth.url}/admin/users/${id}/totp`, { method: 'DELETE', headers: bearer(token) });

  it('removes the second factor and ends every session of the user', async () => {
    const user = await registerAndLogin(auth, 'lost-phone');
    await enrolTotp(auth, user);
    const response = await reset(user.id, await adminToken(auth));
    expect(response.status).toBe(204);
    const [row] = await auth.db.query(
      'SELECT totp_secret, totp_pending_secret FROM identities WHERE id = $1',
      [user.id],
    );
    expect(row).toEqual({ totp_secret: null, totp_pending_secret: null });
    // The old session and token are gone...
    expect((await refresh(auth, user.refreshToken)).status).toBe(401);
    const setup = await fetch(`${auth.url}/auth/mfa/totp/setup`, {
      method: 'POST',
      headers: bearer(user.accessToken),
    });
    expect(setup.status).toBe(401);
    // ...and the password alone logs in again, so the user can enrol a new authenticator.
    const again = await login(auth, user.email, STRONG_PASSWORD);
    expect(decodeJwt(again.accessToken).payload.amr).toEqual(['pwd']);
    expect(await revocationEvents(auth)).toContainEqual(
      expect.objectContaining({ type: 'sub', sub: user.id }),
    );
  });

  it('ends a login that was waiting for the second factor, even once a new one is enrolled', async () => {
    const user = await registerAndLogin(auth, 'waiting');
    await enrolTotp(auth, user);
    const mfaToken = await startLogin(user);
    expect((await reset(user.id, await adminToken(auth))).status).toBe(204);
    // The user enrols a new authenticator; the login started before the reset must not
    // complete with it (it was checked against the factor the admin removed).
    const fresh = await login(auth, user.email, STRONG_PASSWORD);
    const secret = await enrolTotp(auth, { ...user, accessToken: fresh.accessToken });
    const second = await postJson(`${auth.url}/auth/login/mfa`, {
      mfaToken,
      code: totpCode(secret, auth.clock.now()),
    });
    expect(second.status).toBe(401);
  });

  it('leaves no pending secret from a setup that read the account before the reset', async () => {
    const user = await registerAndLogin(auth, 'racing-setup');
    const setup = await fetch(`${auth.url}/auth/mfa/totp/setup`, {
      method: 'POST',
      headers: bearer(user.accessToken),
    });
    expect(setup.status).toBe(200);
    const identities = auth.app.get(DataSource).getRepository(Identity);
    const readBeforeReset = await identities.findOneBy({ id: user.id });
    expect((await reset(user.id, await adminToken(auth))).status).toBe(204);
    // A second setup, whose read happened before the reset committed, writes after it.
    const read = jest.spyOn(identities, 'findOneBy').mockResolvedValueOnce(readBeforeReset);
    try {
      await expect(auth.app.get(TotpEnrolmentService).setup(user.id)).rejects.toMatchObject({
        status: 409,
      });
    } finally {
      read.mockRestore();
    }
    const [row] = await auth.db.query('SELECT totp_pending_secret FROM identities WHERE id = $1', [
      user.id,
    ]);
    expect(row.totp_pending_secret).toBeNull();
  });

  it('needs an admin whose login is at most 5 minutes old, and an admin at all', async () => {
    const user = await registerAndLogin(auth, 'kept');
    await enrolTotp(auth, user);
    const stale = await adminToken(auth);
    auth.clock.advance(301_000);
    const refused = await reset(user.id, stale);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain(
      'error="insufficient_user_authentication"',
    );
    const other = await registerAndLogin(auth, 'not-admin');
    expect((await reset(user.id, other.accessToken)).status).toBe(403);
    const [row] = await auth.db.query('SELECT totp_secret FROM identities WHERE id = $1', [
      user.id,
    ]);
    expect(row.totp_secret).not.toBeNull();
  });

  it('answers 404 for an unknown user or one without TOTP, and 400 for an id that is no UUID', async () => {
    const admin = await adminToken(auth);
    const plain = await registerAndLogin(auth, 'no-totp');
    const notEnrolled = await reset(plain.id, admin);
    expect(notEnrolled.status).toBe(404);
    expect((await refresh(auth, plain.refreshToken)).status).toBe(200); // nothing was revoked
    expect((await reset('00000000-0000-4000-8000-000000000000', admin)).status).toBe(404);
    expect((await reset('not-a-uuid', admin)).status).toBe(400);
  });
});
