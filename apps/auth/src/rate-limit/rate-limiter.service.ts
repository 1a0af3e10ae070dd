import { ApiError } from '@app/platform';
import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { RATE_LIMIT_STORE, type RateLimitStore } from './rate-limit.store';

export interface LimitRule {
  /** e.g. `login:ip`. */
  name: string;
  max: number;
  windowSeconds: number;
}

/** Keys never hold raw emails or addresses (they may sit in a shared store). */
const keyOf = (rule: LimitRule, subject: string) =>
  `${rule.name}:${createHash('sha256').update(subject).digest('base64url').slice(0, 32)}`;

/**
 * Fixed-window limits (SPEC §4). `consume` counts every attempt (per IP); `assertBelow` +
 * `recordFailure` count only failures (per account), so a user who types the password right
 * is never locked out by their own earlier successes.
 */
@Injectable()
export class RateLimiter implements OnModuleDestroy {
  constructor(@Inject(RATE_LIMIT_STORE) private readonly store: RateLimitStore) {}

  /** Counts an attempt; throws 429 once more than `max` were made in the window. */
  async consume(rule: LimitRule, subject: string): Promise<void> {
    const state = await this.store.increment(keyOf(rule, subject), rule.windowSeconds * 1000);
    if (state.count > rule.max) throw tooMany(state.resetInMs);
  }

  /** Throws 429 while `subject` has `max` failures in the window. */
  async assertBelow(rule: LimitRule, subject: string): Promise<void> {
    const state = await this.store.peek(keyOf(rule, subject));
    if (state.count >= rule.max) throw tooMany(state.resetInMs);
  }

  async recordFailure(rule: LimitRule, subject: string): Promise<void> {
    await this.store.increment(keyOf(rule, subject), rule.windowSeconds * 1000);
  }

  async clear(rule: LimitRule, subject: string): Promise<void> {
    await this.store.reset(keyOf(rule, subject));
  }

  async onModuleDestroy(): Promise<void> {
    await this.store.close();
  }
}

export function tooMany(resetInMs: number): ApiError {
  const seconds = Math.max(1, Math.ceil(resetInMs / 1000));
  return new ApiError(429, 'too many attempts; try again later', {
    headers: { 'Retry-After': String(seconds) },
  });
}
