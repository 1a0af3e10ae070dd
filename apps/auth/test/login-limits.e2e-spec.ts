import {
  postJson,
  startAuthTestApp,
  STRONG_PASSWORD,
  uniqueEmail,
  type AuthTestApp,
} from './support/auth-test-app';
import { registerAndLogin } from './support/users';

let auth: AuthTestApp;
beforeAll(async () => {
  auth = await startAuthTestApp('auth_limits', {
    LOGIN_MAX_ATTEMPTS_PER_IP: '40',
    REGISTER_MAX_PER_IP: '30',
  });
});
afterAll(async () => auth?.close());

const attempt = (email: string, password: string, headers: Record<string, string> = {}) =>
  postJson(`${auth.url}/auth/login`, { email, password }, headers);

it('locks an account after 5 failures with 429 and Retry-After, even for the right password', async () => {
  const user = await registerAndLogin(auth, 'locked');
  for (let i = 0; i < 5; i++)
    expect((await attempt(user.email, 'wrong password ' + i)).status).toBe(401);
  const locked = await attempt(user.email, STRONG_PASSWORD);
  expect(locked.status).toBe(429);
  const retryAfter = Number(locked.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(900);
  auth.clock.advance(901_000);
  expect((await attempt(user.email, STRONG_PASSWORD)).status).toBe(200);
});

it('evaluates at most 5 guesses when they arrive all at once', async () => {
  const user = await registerAndLogin(auth, 'burst');
  const guesses = Array.from({ length: 12 }, (_, i) => `wrong password ${i}`);
  guesses[11] = STRONG_PASSWORD; // the right one, late in the burst
  const statuses = await Promise.all(
    guesses.map((password) => attempt(user.email, password).then((response) => response.status)),
  );
  // Counting only after each hash was checked let all 12 through, the right password included.
  expect(statuses.filter((status) => status === 401)).toHaveLength(5);
  expect(statuses.filter((status) => status === 429)).toHaveLength(7);
});

it('locks an unknown account the same way (no enumeration through the limiter)', async () => {
  const ghost = uniqueEmail('ghost');
  for (let i = 0; i < 5; i++)
    expect((await attempt(ghost, 'wrong password ' + i)).status).toBe(401);
  expect((await attempt(ghost, 'wrong password x')).status).toBe(429);
});

it('takes about the same time for an unknown account and a wrong password', async () => {
  // The two kinds of attempt run back to back in pairs (order alternating), and the test
  // takes the median of the per-pair ratios: load from a parallel test worker lasts longer
  // than one pair, so it slows both halves of a pair alike and cancels out of its ratio.
  const users = [
    await registerAndLogin(auth, 'timing'),
    await registerAndLogin(auth, 'timing'),
    await registerAndLogin(auth, 'timing'),
  ];
  const time = async (email: string) => {
    const started = process.hrtime.bigint();
    const response = await attempt(email, 'not the password at all');
    expect(response.status).toBe(401);
    return Number(process.hrtime.bigint() - started) / 1e6;
  };
  const ratios: number[] = [];
  for (let round = 0; round < 5; round++) {
    // Fresh limiter windows, so every attempt below is a plain 401 and no account locks.
    auth.clock.advance(901_000);
    for (const [index, user] of users.entries()) {
      if ((round + index) % 2 === 0) {
        const known = await time(user.email);
        ratios.push((await time(uniqueEmail('nobody'))) / known);
      } else {
        const unknown = await time(uniqueEmail('nobody'));
        ratios.push(unknown / (await time(user.email)));
      }
    }
  }
  auth.clock.advance(901_000);
  const ratio = ratios.sort((a, b) => a - b)[Math.floor(ratios.length / 2)];
  expect(ratio).toBeGreaterThan(0.8);
  expect(ratio).toBeLessThan(1.25);
});

it('limits attempts per client IP, and a spoofed X-Forwarded-For does not bypass it', async () => {
  auth.clock.advance(901_000);
  let status = 0;
  for (let i = 0; i < 41; i++) {
    const response = await attempt(uniqueEmail('ip'), 'wrong password', {
      'x-forwarded-for': `10.0.${i}.1`,
    });
    status = response.status;
    if (status === 429) {
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
      break;
    }
  }
  expect(status).toBe(429);
  auth.clock.advance(901_000);
});

it('limits registrations per IP', async () => {
  let status = 0;
  for (let i = 0; i < 31 && status !== 429; i++) {
    status = (
      await postJson(`${auth.url}/auth/register`, {
        email: uniqueEmail('r'),
        password: 'short',
        displayName: 'r',
      })
    ).status;
  }
  expect(status).toBe(429);
});
