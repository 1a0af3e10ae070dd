import type { RateLimitStore, WindowState } from './rate-limit.store';

/** Bounds memory when many distinct keys (IPs) pass through one process. */
const SWEEP_ABOVE = 100_000;

/**
 * Counters in this process only: right for development and tests, wrong for several replicas
 * (each would allow `max` on its own).
 *
 * @example new MemoryRateLimitStore() // or new MemoryRateLimitStore(frozenClock)
 */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(private readonly clock: { now(): number } = { now: () => Date.now() }) {}

  async increment(key: string, windowMs: number): Promise<WindowState> {
    const entry = this.live(key) ?? { count: 0, resetAt: this.clock.now() + windowMs };
    entry.count += 1;
    this.windows.set(key, entry);
    if (this.windows.size > SWEEP_ABOVE) this.sweep();
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

  private live(key: string) {
    const entry = this.windows.get(key);
    if (entry && entry.resetAt <= this.clock.now()) {
      this.windows.delete(key);
      return undefined;
    }
    return entry;
  }

  private sweep(): void {
    for (const key of this.windows.keys()) this.live(key);
  }
}
