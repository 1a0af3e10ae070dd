import { baseConfigSchema, loadConfig, refineProduction } from '@app/platform';
import { z } from 'zod';

export const authConfigSchema = baseConfigSchema
  .extend({
    PORT: z.coerce.number().int().min(1).max(65535).default(3001),
    AUTH_ISSUER: z.url().default('http://localhost:3001'),
    /** Regions a user may belong to (SPEC §4); the first is the default. */
    REGIONS: z
      .string()
      .default('eu,us,apac')
      .transform((value) =>
        value
          .split(',')
          .map((entry) => entry.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string().regex(/^[a-z0-9-]{1,32}$/)).min(1)),
    /** base64 of 32 random bytes; encrypts signing keys at rest. */
    KEY_ENCRYPTION_KEY: z.string().optional(),
    ADMIN_EMAIL: z.email().optional(),
    ADMIN_PASSWORD: z.string().optional(),
    REDIS_URL: z.string().optional(),
    USERS_CLIENT_SECRET: z.string().optional(),
    ORDERS_CLIENT_SECRET: z.string().optional(),
  })
  .superRefine((config, ctx) =>
    refineProduction(config, ctx, {
      KEY_ENCRYPTION_KEY: { minLength: 44 },
      ADMIN_PASSWORD: { minLength: 12 },
      USERS_CLIENT_SECRET: { minLength: 43 },
      ORDERS_CLIENT_SECRET: { minLength: 43 },
    }),
  );

export type AuthConfig = z.infer<typeof authConfigSchema>;

export const AUTH_CONFIG = Symbol('AUTH_CONFIG');

export function loadAuthConfig(env: NodeJS.ProcessEnv = process.env): AuthConfig {
  return loadConfig(authConfigSchema, env);
}
