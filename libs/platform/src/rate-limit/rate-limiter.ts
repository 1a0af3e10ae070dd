import { createHash } from 'node:crypto';
import { ApiError } from '../errors/api-error';
import type { RateLimitStore } from './rate-limit.store';

/** One limit: at most `max` hits per `windowSeconds` (fixed window) for each key. */
export interface RateLimitRule {
  /** Names the counter, e.g. `login:ip`; rules with different names never share counts. */
  name: string;
  max: number;
  windowSeconds: number;
}

export interface RateLimitDecision {
  allowed: boolean;
  /** Hits still allowed in this window. */
  remaining: number;
  /** When `allowed` is false: seconds until the window resets (for `Retry-After`), >= 1. */
  retryAfterSeconds: number;
}

/** Keys never hold raw emails or addresses: they may sit in a shared store. */
const storeKey = (key: string, rule: RateLimitRule) =>
  `${rule.name}:${createHash('sha256').update(key).digest('base64url').slice(0, 32)}`;

/**
 * The store (Redis) being away refuses the attempt as a dependency failure (503): never let
 * through uncounted, and never a 500.
 */
async function storeCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new ApiError(503, 'rate limiting is unavailable; try again later', { cause: error });
  }
}

const retryAfter = (resetInMs: number) => Math.max(1, Math.ceil(resetInMs / 1000));

/**
 * Fixed-window rate limits over a {@link RateLimitStore}.
 *
 * Two ways to count, both with `consume` BEFORE the attempt is judged: every attempt (per IP),
 * or only failures (per account: `consume`, then `reset` on success, so a user who types the
 * password right is never locked out by their own successes). Never check first and count
 * after a failure: parallel attempts would all pass a check that saw none of them.
 *
 * @example
 * const decision = await limiter.consume(request.ip, { name: 'register:ip', max: 100, windowSeconds: 3600 });
 * assertAllowed(decision); // 429 with Retry-After
 */
export class RateLimiter {
  constructor(private readonly store: RateLimitStore) {}

  /** Counts a hit; allowed while at most `max` hits were made in the window. */
  async consume(key: string, rule: RateLimitRule): Promise<RateLimitDecision> {
    const state = await storeCall(() =>
      this.store.increment(storeKey(key, rule), rule.windowSeconds * 1000),
    );
    return {
      allowed: state.count <= rule.max,
      remaining: Math.max(0, rule.max - state.count),
      retryAfterSeconds: state.count <= rule.max ? 0 : retryAfter(state.resetInMs),
    };
  }

  async reset(key: string, rule: RateLimitRule): Promise<void> {
    await storeCall(() => this.store.reset(storeKey(key, rule)));
  }
}

/** Throws HTTP 429 `RATE_LIMITED` with `Retry-After` unless `decision` allows. */
export function assertAllowed(decision: RateLimitDecision): void {
  if (decision.allowed) return;
  throw new ApiError(429, 'too many attempts; try again later', {
    headers: { 'Retry-After': String(decision.retryAfterSeconds) },
  });
}
