import {
  baseConfigSchema,
  grpcTlsConfigShape,
  loadConfig,
  refineGrpcTls,
  refineProduction,
  withDevelopmentAuthIssuer,
} from '@app/platform';
import { z } from 'zod';

export const ordersConfigSchema = baseConfigSchema
  .safeExtend({
    ...grpcTlsConfigShape,
    PORT: z.coerce.number().int().min(1).max(65535).default(3003),
    GRPC_PORT: z.coerce.number().int().min(1).max(65535).default(50053),
    /** Required in production; DEVELOPMENT_AUTH_ISSUER elsewhere. */
    AUTH_ISSUER: z.url().optional(),
    USERS_GRPC_URL: z.string().default('127.0.0.1:50052'),
    /** Deadline of calls to users; past it an order is refused with 503, nothing written. */
    USERS_GRPC_DEADLINE_MS: z.coerce.number().int().min(50).max(30_000).default(2000),
    CLIENT_ID: z.string().default('orders'),
    /** Shared store of rate-limit counters (SPEC §7). Required in production. */
    REDIS_URL: z.string().optional(),
    /** Orders a user may place per window (429 with Retry-After past it). */
    ORDERS_RATE_LIMIT_MAX: z.coerce.number().int().min(1).default(10),
    ORDERS_RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).default(60),
    /** GET /orders page size: `limit` defaults to this ... */
    ORDERS_PAGE_SIZE_DEFAULT: z.coerce.number().int().min(1).max(100).default(20),
    /** ... and is capped here. */
    ORDERS_PAGE_SIZE_MAX: z.coerce.number().int().min(1).max(500).default(100),
    /** How long an Idempotency-Key is remembered per user (replays after it place a new order). */
    IDEMPOTENCY_KEY_TTL_SECONDS: z.coerce
      .number()
      .int()
      .min(60)
      .default(24 * 3600),
    CLIENT_SECRET: z.string().optional(),
  })
  .superRefine((config, ctx) => {
    refineProduction(config, ctx, { CLIENT_SECRET: { minLength: 43 } }, ['AUTH_ISSUER']);
    refineGrpcTls(config, ctx, ['USERS_GRPC_URL']);
    if (config.NODE_ENV === 'production' && !config.REDIS_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['REDIS_URL'],
        message: 'is required in production: rate limits must be shared by every replica',
      });
    }
  })
  .transform(withDevelopmentAuthIssuer);

export type OrdersConfig = z.infer<typeof ordersConfigSchema>;

export const ORDERS_CONFIG = Symbol('ORDERS_CONFIG');

export function loadOrdersConfig(env: NodeJS.ProcessEnv = process.env): OrdersConfig {
  return loadConfig(ordersConfigSchema, env);
}
