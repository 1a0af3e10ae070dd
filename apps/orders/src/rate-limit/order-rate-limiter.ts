import { assertAllowed, RateLimiter, type RateLimitRule } from '@app/platform';
import { Inject, Injectable } from '@nestjs/common';
import { ORDERS_CONFIG, type OrdersConfig } from '../orders.config';

/** Orders placed per user per window (ORDERS_RATE_LIMIT_MAX / _WINDOW_SECONDS). */
@Injectable()
export class OrderRateLimiter {
  private readonly rule: RateLimitRule;

  constructor(
    private readonly limiter: RateLimiter,
    @Inject(ORDERS_CONFIG) config: OrdersConfig,
  ) {
    this.rule = {
      name: 'orders:place',
      max: config.ORDERS_RATE_LIMIT_MAX,
      windowSeconds: config.ORDERS_RATE_LIMIT_WINDOW_SECONDS,
    };
  }

  /** Counts one attempt; past the limit, a 429 with Retry-After (RFC 9110 §10.2.3, seconds). */
  async consume(userId: string): Promise<void> {
    assertAllowed(await this.limiter.consume(userId, this.rule));
  }
}
