import { baseConfigSchema, loadConfig, refineProduction } from '@app/platform';
import { z } from 'zod';

export const ordersConfigSchema = baseConfigSchema
  .extend({
    PORT: z.coerce.number().int().min(1).max(65535).default(3003),
    GRPC_PORT: z.coerce.number().int().min(1).max(65535).default(50053),
    AUTH_ISSUER: z.url().default('http://localhost:3001'),
    USERS_GRPC_URL: z.string().default('127.0.0.1:50052'),
    /** Deadline of calls to users; past it an order is refused with 503, nothing written. */
    USERS_GRPC_DEADLINE_MS: z.coerce.number().int().min(50).max(30_000).default(2000),
    CLIENT_ID: z.string().default('orders'),
    CLIENT_SECRET: z.string().optional(),
  })
  .superRefine((config, ctx) =>
    refineProduction(config, ctx, { CLIENT_SECRET: { minLength: 32 } }),
  );

export type OrdersConfig = z.infer<typeof ordersConfigSchema>;

export const ORDERS_CONFIG = Symbol('ORDERS_CONFIG');

export function loadOrdersConfig(env: NodeJS.ProcessEnv = process.env): OrdersConfig {
  return loadConfig(ordersConfigSchema, env);
}
