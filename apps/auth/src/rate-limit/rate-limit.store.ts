import type { Clock } from '../common/clock';

export interface WindowState {
  count: number;
  /** Milliseconds until the window resets. */
  resetInMs: number;
}

/**
 * Fixed-window counters shared by every replica (SPEC §7). Redis in production; the
 * in-memory store serves a single process in development and tests.
 */
export interface RateLimitStore {
  increment(key: string, windowMs: number): Promise<WindowState>;
  peek(key: string): Promise<WindowState>;
  reset(key: string): Promise<void>;
  close(): Promise<void>;
}

export const RATE_LIMIT_STORE = Symbol('RATE_LIMIT_STORE');

export class MemoryRateLimitStore implements RateLimitStore {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(private readonly clock: Clock) {}

  private live(key: string) {
    const entry = this.windows.get(key);
    if (entry && entry.resetAt <= this.clock.now()) {
      this.windows.delete(key);
      return undefined;
    }
    return entry;
  }

  async increment(key: string, windowMs: number): Promise<WindowState> {
    const entry = this.live(key) ?? { count: 0, resetAt: this.clock.now() + windowMs };
    entry.count += 1;
    this.windows.set(key, entry);
    if (this.windows.size > 100_000) this.sweep();
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

  private sweep(): void {
    for (const key of this.windows.keys()) this.live(key);
  }
}
