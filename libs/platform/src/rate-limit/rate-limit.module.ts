import {
  ConfigurableModuleBuilder,
  Inject,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { MemoryRateLimitStore } from './memory-rate-limit.store';
import { RATE_LIMIT_STORE, type RateLimitStore } from './rate-limit.store';
import { RateLimiter } from './rate-limiter';
import { RedisRateLimitStore } from './redis-rate-limit.store';

export interface RateLimitModuleOptions {
  /**
   * `redis://` or `rediss://` URL of the store shared by every replica (SPEC §7). When absent,
   * counters live in this process (development and tests only).
   */
  redisUrl?: string;
  /** Prefix of every Redis key. Default `rl:`; give each service its own. */
  keyPrefix?: string;
  /** Time source of the in-memory store. Default `Date.now`. */
  clock?: { now(): number };
}

/** The store `RateLimitModule` uses for `options`; throws a `TypeError` naming a bad option. */
export function createRateLimitStore(options: RateLimitModuleOptions = {}): RateLimitStore {
  if (options.redisUrl !== undefined && !/^rediss?:\/\/./.test(options.redisUrl)) {
    throw new TypeError('RateLimitModule: redisUrl must be a redis:// or rediss:// URL');
  }
  if (options.keyPrefix !== undefined && typeof options.keyPrefix !== 'string') {
    throw new TypeError('RateLimitModule: keyPrefix must be a string');
  }
  return options.redisUrl
    ? new RedisRateLimitStore(options.redisUrl, { keyPrefix: options.keyPrefix })
    : new MemoryRateLimitStore(options.clock);
}

const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN: RATE_LIMIT_MODULE_OPTIONS } =
  new ConfigurableModuleBuilder<RateLimitModuleOptions>().setClassMethodName('forRoot').build();

/**
 * Provides `RateLimiter` (and `RATE_LIMIT_STORE`); closes the store when the app closes.
 * `forRootAsync({ inject, useFactory })` takes the options from config.
 *
 * @example RateLimitModule.forRoot({ redisUrl: config.REDIS_URL, keyPrefix: 'orders:rl:' })
 */
@Module({
  providers: [
    {
      provide: RATE_LIMIT_STORE,
      inject: [RATE_LIMIT_MODULE_OPTIONS],
      useFactory: createRateLimitStore,
    },
    {
      provide: RateLimiter,
      inject: [RATE_LIMIT_STORE],
      useFactory: (store: RateLimitStore) => new RateLimiter(store),
    },
  ],
  exports: [RateLimiter, RATE_LIMIT_STORE],
})
export class RateLimitModule extends ConfigurableModuleClass implements OnApplicationShutdown {
  constructor(@Inject(RATE_LIMIT_STORE) private readonly store: RateLimitStore) {
    super();
  }

  /** After Nest closed the HTTP server: requests still in flight when closing began get their limit checked. */
  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}
