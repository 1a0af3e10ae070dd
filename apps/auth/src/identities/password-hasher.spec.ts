import { argon2Concurrency, ConcurrencyLimit, PasswordHasher } from './password-hasher';

it('leaves half of the thread pool to token signing', () => {
  expect(argon2Concurrency(4)).toBe(2);
  expect(argon2Concurrency(8)).toBe(4);
  expect(argon2Concurrency(1)).toBe(1);
});

it('runs at most `limit` tasks at once, the others in arrival order', async () => {
  const limit = new ConcurrencyLimit(2);
  let running = 0;
  let peak = 0;
  const started: number[] = [];
  const release: (() => void)[] = [];
  const tasks = [0, 1, 2, 3, 4].map((index) =>
    limit.run(async () => {
      started.push(index);
      peak = Math.max(peak, ++running);
      await new Promise<void>((resolve) => release.push(resolve));
      running--;
      return index;
    }),
  );
  for (let done = 0; done < 5; done++) {
    await new Promise((resolve) => setImmediate(resolve));
    release.shift()?.();
  }
  expect(await Promise.all(tasks)).toEqual([0, 1, 2, 3, 4]);
  expect(peak).toBe(2);
  expect(started).toEqual([0, 1, 2, 3, 4]);
});

it('frees its slot when a task fails', async () => {
  const limit = new ConcurrencyLimit(1);
  await expect(limit.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  await expect(limit.run(async () => 'next')).resolves.toBe('next');
});

it('hashes and verifies through a limit of its share of the pool', async () => {
  const runs: number[] = [];
  const spy = jest.spyOn(ConcurrencyLimit.prototype, 'run').mockImplementation(function (
    this: ConcurrencyLimit,
    task,
  ) {
    runs.push(this.limit);
    return task();
  });
  try {
    const hasher = new PasswordHasher();
    const hash = await hasher.hash('a long enough passphrase');
    expect(await hasher.verify(hash, 'a long enough passphrase')).toBe(true);
    expect(runs).toEqual([argon2Concurrency(), argon2Concurrency()]);
  } finally {
    spy.mockRestore();
  }
});
