import Redis from 'ioredis';
import type { RateLimitStore, WindowState } from './rate-limit.store';

/**
 * INCR and the first PEXPIRE in one script, so concurrent replicas count atomically and a
 * window never lives forever (a key left without TTL, e.g. by a crash, gets one here).
 */
const INCREMENT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}`;

export interface RedisRateLimitStoreOptions {
  /** Prepended to every key, so services sharing a Redis never share counters. Default `rl:`. */
  keyPrefix?: string;
}

/**
 * Counters shared by every replica (SPEC §7).
 *
 * @example new RedisRateLimitStore('redis://redis:6379', { keyPrefix: 'auth:rl:' })
 */
export class RedisRateLimitStore implements RateLimitStore {
  private readonly redis: Redis;
  private readonly prefix: string;

  constructor(url: string, options: RedisRateLimitStoreOptions = {}) {
    this.prefix = options.keyPrefix ?? 'rl:';
    this.redis = new Redis(url, {
      // A request fails after two reconnect attempts instead of waiting for Redis forever.
      maxRetriesPerRequest: 2,
      enableOfflineQueue: true,
    });
  }

  async increment(key: string, windowMs: number): Promise<WindowState> {
    const [count, ttl] = (await this.redis.eval(
      INCREMENT,
      1,
      this.prefix + key,
      Math.max(1, Math.round(windowMs)),
    )) as [number, number];
    return { count, resetInMs: ttl };
  }

  async peek(key: string): Promise<WindowState> {
    const [count, ttl] = await Promise.all([
      this.redis.get(this.prefix + key),
      this.redis.pttl(this.prefix + key),
    ]);
    return { count: Number(count ?? 0), resetInMs: Math.max(0, ttl) };
  }

  async reset(key: string): Promise<void> {
    await this.redis.del(this.prefix + key);
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
