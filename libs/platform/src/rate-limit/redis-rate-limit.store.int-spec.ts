import { startTestRedis } from '../../../../test/support/test-infra';
import { RateLimiter, type RateLimitRule } from './rate-limiter';
import { RedisRateLimitStore } from './redis-rate-limit.store';

// A real Redis (REDIS_URL, or a private redis-server): the store is what makes limits hold
// across replicas (SPEC §7), so its atomicity and expiry are checked against the real thing.
let redis: { url: string; stop(): Promise<void> };
const stores: RedisRateLimitStore[] = [];
const replica = (keyPrefix: string) => {
  const store = new RedisRateLimitStore(redis.url, { keyPrefix });
  stores.push(store);
  return store;
};
let prefix: string;

beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await Promise.all(stores.map((store) => store.close()));
  await redis?.stop();
});
beforeEach(() => {
  prefix = `test:${expect.getState().currentTestName?.replace(/\W+/g, '-')}:${Date.now()}:`;
});

it('counts hits and sets the window as the TTL', async () => {
  const store = replica(prefix);
  expect(await store.increment('k', 60_000)).toEqual({
    count: 1,
    resetInMs: expect.any(Number),
  });
  const second = await store.increment('k', 60_000);
  expect(second.count).toBe(2);
  expect(second.resetInMs).toBeGreaterThan(58_000);
  expect(second.resetInMs).toBeLessThanOrEqual(60_000);
  expect(await store.peek('k')).toEqual({ count: 2, resetInMs: expect.any(Number) });
});

it('peeks an unknown key as zero without creating it', async () => {
  const store = replica(prefix);
  expect(await store.peek('nobody')).toEqual({ count: 0, resetInMs: 0 });
  expect(await store.peek('nobody')).toEqual({ count: 0, resetInMs: 0 });
});

it('counts atomically: concurrent increments from two replicas each get a distinct count', async () => {
  const [a, b] = [replica(prefix), replica(prefix)];
  const results = await Promise.all(
    Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).increment('shared', 60_000)),
  );
  expect(results.map((r) => r.count).sort((x, y) => x - y)).toEqual(
    Array.from({ length: 100 }, (_, i) => i + 1),
  );
});

it('forgets a window once it has passed', async () => {
  const store = replica(prefix);
  await store.increment('short', 150);
  await store.increment('short', 150);
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(await store.peek('short')).toEqual({ count: 0, resetInMs: 0 });
  expect((await store.increment('short', 150)).count).toBe(1);
});

it('resets a key', async () => {
  const store = replica(prefix);
  await store.increment('k', 60_000);
  await store.reset('k');
  expect((await store.peek('k')).count).toBe(0);
});

it('keeps services with different prefixes apart', async () => {
  await replica(`${prefix}auth:`).increment('k', 60_000);
  expect((await replica(`${prefix}orders:`).peek('k')).count).toBe(0);
});

it('makes a limit hold across replicas behind RateLimiter', async () => {
  const rule: RateLimitRule = { name: 'login:ip', max: 3, windowSeconds: 60 };
  const [one, two] = [new RateLimiter(replica(prefix)), new RateLimiter(replica(prefix))];
  await one.consume('10.0.0.1', rule);
  await two.consume('10.0.0.1', rule);
  await one.consume('10.0.0.1', rule);
  const refused = await two.consume('10.0.0.1', rule);
  expect(refused.allowed).toBe(false);
  expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(59);
  expect(refused.retryAfterSeconds).toBeLessThanOrEqual(60);
});
