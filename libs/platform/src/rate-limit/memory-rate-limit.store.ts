import type { RateLimitStore, WindowState } from './rate-limit.store';

/** Distinct keys (IPs) one process keeps counters for, by default. */
const DEFAULT_MAX_KEYS = 100_000;
/** Expired windows are swept out at most this often once the store is full. */
const SWEEP_INTERVAL_MS = 1000;

/**
 * Counters in this process only: right for development and tests, wrong for several replicas
 * (each would allow `max` on its own). Memory is bounded: at `maxKeys` counters, expired
 * windows are swept out (at most once a second, so a flood of new keys does not make every
 * request scan them all), and if none has expired the oldest counter is dropped.
 *
 * @example new MemoryRateLimitStore() // or new MemoryRateLimitStore(frozenClock)
 */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  private nextSweepAt = 0;

  constructor(
    private readonly clock: { now(): number } = { now: () => Date.now() },
    private readonly maxKeys = DEFAULT_MAX_KEYS,
  ) {}

  async increment(key: string, windowMs: number): Promise<WindowState> {
    let entry = this.live(key);
    if (!entry) {
      if (this.windows.size >= this.maxKeys) this.makeRoom();
      entry = { count: 0, resetAt: this.clock.now() + windowMs };
      this.windows.set(key, entry);
    }
    entry.count += 1;
    return { count: entry.count, resetInMs: entry.resetAt - this.clock.now() };
  }

  async peek(key: string): Promise<WindowState> {
    const entry = this.live(key);
    return entry
      ? { count: entry.count, resetInMs: entry.resetAt - this.clock.now() }
      : { count: 0, resetInMs: 0 };
  }

  async reset(key: string): Promise<void> {
    this.windows.delete(key);
  }

  async close(): Promise<void> {
    this.windows.clear();
  }

  get size(): number {
    return this.windows.size;
  }

  private live(key: string) {
    const entry = this.windows.get(key);
    if (entry && entry.resetAt <= this.clock.now()) {
      this.windows.delete(key);
      return undefined;
    }
    return entry;
  }

  private makeRoom(): void {
    const now = this.clock.now();
    if (now >= this.nextSweepAt) {
      this.nextSweepAt = now + SWEEP_INTERVAL_MS;
      for (const [key, entry] of this.windows) {
        if (entry.resetAt <= now) this.windows.delete(key);
      }
    }
    // Still full: the counter created first goes (a Map iterates in insertion order).
    if (this.windows.size >= this.maxKeys) {
      this.windows.delete(this.windows.keys().next().value!);
    }
  }
}
