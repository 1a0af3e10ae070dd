export interface WindowState {
  count: number;
  /** Milliseconds until the window resets (0 when no window is open). */
  resetInMs: number;
}

/**
 * Fixed-window counters. Replicas of a service must share one store (SPEC §7): Redis in
 * production; {@link MemoryRateLimitStore} serves one process (development, tests).
 */
export interface RateLimitStore {
  /** Counts one hit; opens a window of `windowMs` on the first hit. Atomic across replicas. */
  increment(key: string, windowMs: number): Promise<WindowState>;
  /** Reads a window without counting. */
  peek(key: string): Promise<WindowState>;
  reset(key: string): Promise<void>;
  close(): Promise<void>;
}

/** Injection token of the store behind `RateLimiter` (see `RateLimitModule`). */
export const RATE_LIMIT_STORE = Symbol('RATE_LIMIT_STORE');
