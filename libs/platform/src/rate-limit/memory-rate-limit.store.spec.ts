import { MemoryRateLimitStore } from './memory-rate-limit.store';

function storeWith(maxKeys?: number) {
  const clock = { time: 1_000_000, now: () => clock.time };
  return { clock, store: new MemoryRateLimitStore(clock, maxKeys) };
}

it('keeps at most maxKeys counters however many distinct keys pass (one per address)', async () => {
  const { store } = storeWith();
  for (let i = 0; i < 200_000; i++) await store.increment(`ip-${i}`, 3_600_000);
  expect(store.size).toBeLessThanOrEqual(100_000);
  // The newest counters are the ones kept.
  expect((await store.peek('ip-199999')).count).toBe(1);
  expect((await store.peek('ip-0')).count).toBe(0);
});

it('makes room by dropping expired windows before any live counter', async () => {
  const { clock, store } = storeWith(3);
  await store.increment('short-1', 1000);
  await store.increment('short-2', 1000);
  await store.increment('long', 60_000);
  await store.increment('long', 60_000);
  clock.time += 2000;
  await store.increment('new', 60_000);
  expect(store.size).toBe(2);
  expect((await store.peek('long')).count).toBe(2);
  expect((await store.peek('new')).count).toBe(1);
});

it('counts an existing key on without making room, when full', async () => {
  const { store } = storeWith(2);
  await store.increment('a', 60_000);
  await store.increment('b', 60_000);
  await store.increment('a', 60_000);
  expect((await store.peek('a')).count).toBe(2);
  expect((await store.peek('b')).count).toBe(1);
});
