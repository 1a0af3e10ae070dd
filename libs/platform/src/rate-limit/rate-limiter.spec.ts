import { ApiError } from '../errors/api-error';
import { MemoryRateLimitStore } from './memory-rate-limit.store';
import { createRateLimitStore } from './rate-limit.module';
import { assertAllowed, RateLimiter, type RateLimitRule } from './rate-limiter';
import { RedisRateLimitStore } from './redis-rate-limit.store';

const rule: RateLimitRule = { name: 'login:ip', max: 3, windowSeconds: 60 };

function setup() {
  const clock = { time: 1_000_000, now: () => clock.time };
  const store = new MemoryRateLimitStore(clock);
  return { clock, store, limiter: new RateLimiter(store) };
}

it('allows max hits per window and refuses the next with the seconds left', async () => {
  const { clock, limiter } = setup();
  for (let i = 0; i < 3; i++) expect((await limiter.consume('10.0.0.1', rule)).allowed).toBe(true);
  clock.time += 20_500;
  expect(await limiter.consume('10.0.0.1', rule)).toEqual({
    allowed: false,
    remaining: 0,
    retryAfterSeconds: 40,
  });
});

it('opens a new window once the old one has passed', async () => {
  const { clock, limiter } = setup();
  for (let i = 0; i < 4; i++) await limiter.consume('k', rule);
  clock.time += 60_000;
  expect(await limiter.consume('k', rule)).toEqual({
    allowed: true,
    remaining: 2,
    retryAfterSeconds: 0,
  });
});

it('opens a fresh window after reset (a success clears the failures)', async () => {
  const { limiter } = setup();
  for (let i = 0; i < 3; i++) await limiter.consume('a@example.com', rule);
  expect(await limiter.consume('a@example.com', rule)).toMatchObject({ allowed: false });
  await limiter.reset('a@example.com', rule);
  expect(await limiter.consume('a@example.com', rule)).toMatchObject({
    allowed: true,
    remaining: 2,
  });
});

it('keeps counters of different keys and different rules apart', async () => {
  const { limiter } = setup();
  for (let i = 0; i < 4; i++) await limiter.consume('a', rule);
  expect((await limiter.consume('b', rule)).allowed).toBe(true);
  expect((await limiter.consume('a', { ...rule, name: 'register:ip' })).allowed).toBe(true);
});

it('never stores the raw key (emails and addresses may sit in a shared store)', async () => {
  const { store, limiter } = setup();
  const increment = jest.spyOn(store, 'increment');
  await limiter.consume('alice@example.com', rule);
  const [key] = increment.mock.calls[0];
  expect(key).toMatch(/^login:ip:[\w-]{32}$/);
  expect(key).not.toContain('alice');
});

it('refuses with 503 when its store is away, never letting the attempt through uncounted', async () => {
  const failing = {
    increment: () => Promise.reject(new Error('ECONNREFUSED 127.0.0.1:6379')),
    reset: () => Promise.reject(new Error('ECONNREFUSED 127.0.0.1:6379')),
  };
  const limiter = new RateLimiter(failing as never);
  const refusal = await limiter.consume('k', rule).catch((error: unknown) => error);
  expect(refusal).toBeInstanceOf(ApiError);
  expect((refusal as ApiError).getStatus()).toBe(503);
  expect((refusal as ApiError).message).not.toContain('6379');
});

it('assertAllowed throws 429 with Retry-After when refused', () => {
  expect(() => assertAllowed({ allowed: true, remaining: 1, retryAfterSeconds: 0 })).not.toThrow();
  try {
    assertAllowed({ allowed: false, remaining: 0, retryAfterSeconds: 7 });
    throw new Error('expected a throw');
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).getStatus()).toBe(429);
    expect((error as ApiError).code).toBe('RATE_LIMITED');
    expect((error as ApiError).headers).toEqual({ 'Retry-After': '7' });
  }
});

describe('createRateLimitStore', () => {
  it('uses memory without redisUrl and Redis with it', async () => {
    expect(createRateLimitStore()).toBeInstanceOf(MemoryRateLimitStore);
    const redis = createRateLimitStore({ redisUrl: 'redis://127.0.0.1:1' });
    expect(redis).toBeInstanceOf(RedisRateLimitStore);
    await redis.close();
  });

  it('rejects a redisUrl that is not a redis URL, naming the option', () => {
    expect(() => createRateLimitStore({ redisUrl: 'http://redis:6379' })).toThrow(
      new TypeError('RateLimitModule: redisUrl must be a redis:// or rediss:// URL'),
    );
  });
});
