import { CLOCK_TOLERANCE_SECONDS, USER_ACCESS_TOKEN_TTL_SECONDS } from '@app/security';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { performance } from 'node:perf_hooks';
import { KeyRotationScheduler } from '../src/keys/key-rotation.scheduler';
import { SigningKeyStore } from '../src/keys/signing-key.store';
import {
  asJson,
  basic,
  decodeJwt,
  postForm,
  startAuthTestApp,
  type AuthTestApp,
} from './support/auth-test-app';
import { eventually } from './support/nats-listener';
import { registerAndLogin } from './support/users';

// Scheduled rotation (README "Keys", keys/key-rotation.scheduler.ts): every replica's timer
// (every interval/10, at least 1 s) asks the store to rotate; the store rotates only when the
// current key is older than KEY_ROTATION_INTERVAL_SECONDS and the `next` key has been in the
// JWKS for KEY_PUBLISH_LEAD_SECONDS. The `next` key is published at start and at every rotation,
// so the key that starts signing has always been published first. These tests move auth's
// clock and let the real scheduler timer (6 s for a 60 s interval) do the rotating.

const INTERVAL_S = 60;
const SECOND = 1000;

interface Harness {
  auth: AuthTestApp;
  /** Resolves with the result of the first scheduled tick that starts after this call. */
  nextScheduledTick(): Promise<boolean>;
  jwksKids(): Promise<string[]>;
  jwks(): Promise<{ keys: Record<string, unknown>[] }>;
  serviceToken(): Promise<string>;
  signingKid(): Promise<string>;
  /** Moves auth's clock to `target` (epoch ms). */
  advanceTo(target: number): void;
}

async function startHarness(prefix: string, leadSeconds: number): Promise<Harness> {
  const auth = await startAuthTestApp(prefix, {
    KEY_ROTATION_INTERVAL_SECONDS: String(INTERVAL_S),
    KEY_PUBLISH_LEAD_SECONDS: String(leadSeconds),
  });
  const scheduler = auth.app.get(KeyRotationScheduler);
  const original = scheduler.tick.bind(scheduler);
  const ticks: { startedAt: number; result: boolean }[] = [];
  // The timer calls `this.tick(...)`: record what each scheduled tick decided.
  jest.spyOn(scheduler, 'tick').mockImplementation(async (intervalMs?: number) => {
    const startedAt = performance.now();
    const result = await original(intervalMs);
    ticks.push({ startedAt, result });
    return result;
  });
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
    expect(response.status).toBe(200);
    return (await response.json().then(asJson)).access_token as string;
  };
  return {
    auth,
    async nextScheduledTick() {
      const since = performance.now();
      let tick: { result: boolean } | undefined;
      await eventually(
        () => (tick = ticks.find((t) => t.startedAt >= since)) !== undefined,
        INTERVAL_S * 100 + 10 * SECOND,
        50,
        'a scheduled rotation tick',
      );
      return tick!.result;
    },
    jwks,
    jwksKids: async () => (await jwks()).keys.map((key) => String(key.kid)),
    serviceToken,
    signingKid: async () => String(decodeJwt(await serviceToken()).header.kid),
    advanceTo: (target) => auth.clock.advance(target - auth.clock.now()),
  };
}

describe('scheduled rotation waits for the next key to be published KEY_PUBLISH_LEAD_SECONDS', () => {
  const LEAD_S = 90; // longer than the interval: the lead decides when the scheduled rotation happens
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('auth_keysched_lead', LEAD_S);
  });
  afterAll(async () => h?.auth.close());

  it('publishes next before it signs, switches only after the lead, keeps the previous kid until its tokens expired', async () => {
    const { auth } = h;
    const t0 = auth.clock.now();
    const oldKid = await h.signingKid();
    const published0 = await h.jwksKids();
    expect(published0).toHaveLength(2);
    expect(published0).toContain(oldKid);
    const nextKid = published0.find((kid) => kid !== oldKid)!;

    // Past the interval, but `next` has been published for less than the lead: no rotation.
    h.advanceTo(t0 + (INTERVAL_S + 1) * SECOND);
    expect(await h.nextScheduledTick()).toBe(false);
    expect(await h.signingKid()).toBe(oldKid);
    expect(await h.jwksKids()).toEqual(expect.arrayContaining([oldKid, nextKid]));
    // A user token signed by the old key at the last moment before the rotation: 15 min lifetime.
    const lastOldUserToken = (await registerAndLogin(auth, 'keysched')).accessToken;
    const lastOldServiceToken = await h.serviceToken();
    expect(decodeJwt(lastOldUserToken).header.kid).toBe(oldKid);

    // Once the lead is over, the scheduled tick promotes exactly the key published since t0.
    h.advanceTo(t0 + (LEAD_S + 1) * SECOND);
    expect(await h.nextScheduledTick()).toBe(true);
    expect(await h.signingKid()).toBe(nextKid);
    const published1 = await h.jwksKids();
    expect(published1).toHaveLength(3);
    expect(published1).toEqual(expect.arrayContaining([oldKid, nextKid]));
    // ...and publishes a new `next` that signs nothing yet.
    const newNext = published1.find((kid) => kid !== oldKid && kid !== nextKid)!;
    expect(await h.signingKid()).not.toBe(newNext);
    const [row] = await auth.db.query(
      'SELECT created_at, activated_at FROM signing_keys WHERE kid = $1',
      [nextKid],
    );
    expect(row.activated_at.getTime() - row.created_at.getTime()).toBeGreaterThanOrEqual(
      LEAD_S * SECOND,
    );

    // The previous key stays published while any token it signed may still be accepted.
    const [{ retired_at: retiredAt }] = await auth.db.query(
      'SELECT retired_at FROM signing_keys WHERE kid = $1',
      [oldKid],
    );
    expect(retiredAt).toBeInstanceOf(Date);
    const store = auth.app.get(SigningKeyStore);
    const verifiable = async (token: string) => {
      const { payload } = decodeJwt(token);
      // Signature and kid lookup only: checked as of the token's own issue time.
      await jwtVerify(token, createLocalJWKSet((await h.jwks()) as never), {
        typ: 'at+jwt',
        currentDate: new Date(Number(payload.iat) * SECOND),
      });
    };
    const lastExpiry =
      retiredAt.getTime() + (USER_ACCESS_TOKEN_TTL_SECONDS + CLOCK_TOLERANCE_SECONDS) * SECOND;
    h.advanceTo(lastExpiry - SECOND);
    await store.reload();
    expect(await h.jwksKids()).toContain(oldKid);
    await verifiable(lastOldUserToken);
    await verifiable(lastOldServiceToken);

    // After the retention (lifetime + tolerance + two reload intervals) it is withdrawn.
    h.advanceTo(retiredAt.getTime() + store.retentionMs + SECOND);
    await store.reload();
    expect(await h.jwksKids()).not.toContain(oldKid);
    await expect(verifiable(lastOldUserToken)).rejects.toThrow();
  }, 60_000);
});

describe('scheduled rotation waits for KEY_ROTATION_INTERVAL_SECONDS', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('auth_keysched_interval', 0);
  });
  afterAll(async () => h?.auth.close());

  it('keeps the current key before the interval and promotes the published next key after it', async () => {
    const t0 = h.auth.clock.now();
    const oldKid = await h.signingKid();
    const nextKid = (await h.jwksKids()).find((kid) => kid !== oldKid)!;

    h.advanceTo(t0 + (INTERVAL_S / 2) * SECOND);
    expect(await h.nextScheduledTick()).toBe(false);
    expect(await h.signingKid()).toBe(oldKid);

    h.advanceTo(t0 + (INTERVAL_S + 1) * SECOND);
    expect(await h.nextScheduledTick()).toBe(true);
    expect(await h.signingKid()).toBe(nextKid);
    // Rotated once: the following ticks leave the new key in place until its own interval.
    expect(await h.nextScheduledTick()).toBe(false);
    expect(await h.signingKid()).toBe(nextKid);
  }, 60_000);
});
