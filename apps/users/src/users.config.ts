import {
  baseConfigSchema,
  grpcTlsConfigShape,
  loadConfig,
  refineGrpcTls,
  refineProduction,
  withDevelopmentAuthIssuer,
} from '@app/platform';
import { z } from 'zod';

export const usersConfigSchema = baseConfigSchema
  .safeExtend({
    ...grpcTlsConfigShape,
    PORT: z.coerce.number().int().min(1).max(65535).default(3002),
    GRPC_PORT: z.coerce.number().int().min(1).max(65535).default(50052),
    /** Required in production; DEVELOPMENT_AUTH_ISSUER elsewhere. */
    AUTH_ISSUER: z.url().optional(),
    ORDERS_GRPC_URL: z.string().default('127.0.0.1:50053'),
    /** Deadline of calls to orders; past it DELETE /users/me answers 503 and deletes nothing. */
    ORDERS_GRPC_DEADLINE_MS: z.coerce.number().int().min(50).max(30_000).default(2000),
    CLIENT_ID: z.string().default('users'),
    CLIENT_SECRET: z.string().optional(),
  })
  .superRefine((config, ctx) => {
    refineProduction(config, ctx, { CLIENT_SECRET: { minLength: 43 } }, ['AUTH_ISSUER']);
    refineGrpcTls(config, ctx, ['ORDERS_GRPC_URL']);
  })
  .transform(withDevelopmentAuthIssuer);

export type UsersConfig = z.infer<typeof usersConfigSchema>;

export const USERS_CONFIG = Symbol('USERS_CONFIG');

export function loadUsersConfig(env: NodeJS.ProcessEnv = process.env): UsersConfig {
  return loadConfig(usersConfigSchema, env);
}
