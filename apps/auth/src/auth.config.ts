import {
  baseConfigSchema,
  loadConfig,
  refineProduction,
  withDevelopmentAuthIssuer,
} from '@app/platform';
import { z } from 'zod';

const seconds = (fallback: number, min = 1) => z.coerce.number().int().min(min).default(fallback);

/** A service client secret carries at least 256 bits: 43 base64url characters (issue §5). */
/** base64 of 32 random bytes; encrypts signing keys and TOTP secrets at rest, keys client-secret hashes. */
const kek = z.preprocess(
  // An empty value (e.g. `KEY_ENCRYPTION_KEY_PREVIOUS=` in an env file) means unset.
  (value) => (value === '' ? undefined : value),
  z
    .string()
    .refine(
      (value) => Buffer.from(value, 'base64').length === 32,
      'must be base64 of exactly 32 bytes',
    )
    .optional(),
);

const clientSecret = z
  .string()
  .min(43, 'must carry at least 256 bits (43 base64url characters)')
  .optional();

export const authConfigSchema = baseConfigSchema
  .safeExtend({
    PORT: z.coerce.number().int().min(1).max(65535).default(3001),
    /** Required in production; DEVELOPMENT_AUTH_ISSUER elsewhere. */
    AUTH_ISSUER: z.url().optional(),
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
    KEY_ENCRYPTION_KEY: kek,
    /**
     * The value KEY_ENCRYPTION_KEY had before a rotation: read, never written. At start auth
     * re-encrypts what it sealed (signing keys, TOTP secrets); a client secret is re-hashed the
     * next time the client authenticates. Remove it once every client has fetched a token.
     */
    KEY_ENCRYPTION_KEY_PREVIOUS: kek,
    ADMIN_EMAIL: z.email().optional(),
    ADMIN_PASSWORD: z.string().optional(),
    /** Shared store of rate-limit counters (SPEC §7). Required in production. */
    REDIS_URL: z.string().optional(),
    USERS_CLIENT_SECRET: clientSecret,
    ORDERS_CLIENT_SECRET: clientSecret,
    /** Algorithm of new signing keys; see bench/auth-signing.bench.ts for why ES256. */
    SIGNING_ALG: z.enum(['ES256', 'RS256', 'EdDSA']).default('ES256'),
    /**
     * `true` accepts, besides the issuer identifier, RFC 7523's older audiences in a
     * private_key_jwt assertion: the token endpoint URL, or an array holding either. For
     * clients not yet moved to draft-ietf-oauth-rfc7523bis; each such client is logged once.
     */
    CLIENT_ASSERTION_LEGACY_AUDIENCE: z
      .enum(['true', 'false'])
      .default('false')
      .transform((value) => value === 'true'),
    KEY_ROTATION_INTERVAL_SECONDS: seconds(24 * 3600, 60),
    /** A `next` key must have been in the JWKS this long before it may sign. */
    KEY_PUBLISH_LEAD_SECONDS: seconds(60, 0),
    /** How often each replica re-reads the key table (another replica may have rotated). */
    KEY_RELOAD_INTERVAL_SECONDS: seconds(5),
    REFRESH_GRACE_SECONDS: seconds(10, 0),
    REFRESH_IDLE_SECONDS: seconds(7 * 24 * 3600),
    REFRESH_ABSOLUTE_SECONDS: seconds(30 * 24 * 3600),
    LOGIN_MAX_FAILURES_PER_ACCOUNT: seconds(5),
    LOGIN_ACCOUNT_WINDOW_SECONDS: seconds(15 * 60),
    LOGIN_MAX_ATTEMPTS_PER_IP: seconds(100),
    LOGIN_IP_WINDOW_SECONDS: seconds(15 * 60),
    REGISTER_MAX_PER_IP: seconds(100),
    REGISTER_IP_WINDOW_SECONDS: seconds(3600),
    MFA_MAX_FAILURES: seconds(5),
    MFA_WINDOW_SECONDS: seconds(15 * 60),
    /** Overrides the shipped list (one password a line). */
    COMMON_PASSWORDS_FILE: z.string().optional(),
  })
  .superRefine((config, ctx) => {
    if (config.KEY_ENCRYPTION_KEY_PREVIOUS !== undefined) {
      if (config.KEY_ENCRYPTION_KEY === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['KEY_ENCRYPTION_KEY_PREVIOUS'],
          message: 'needs KEY_ENCRYPTION_KEY (the new value) as well',
        });
      } else if (
        Buffer.from(config.KEY_ENCRYPTION_KEY_PREVIOUS, 'base64').equals(
          Buffer.from(config.KEY_ENCRYPTION_KEY, 'base64'),
        )
      ) {
        ctx.addIssue({
          code: 'custom',
          path: ['KEY_ENCRYPTION_KEY_PREVIOUS'],
          message: 'must differ from KEY_ENCRYPTION_KEY',
        });
      }
    }
    refineProduction(
      config,
      ctx,
      {
        KEY_ENCRYPTION_KEY: { minLength: 44 },
        USERS_CLIENT_SECRET: { minLength: 43 },
        ORDERS_CLIENT_SECRET: { minLength: 43 },
      },
      ['AUTH_ISSUER'],
    );
    // Needed only to create the first admin: it may (and should) be removed once one exists.
    if (
      config.NODE_ENV === 'production' &&
      config.ADMIN_PASSWORD !== undefined &&
      config.ADMIN_PASSWORD.length < 12
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['ADMIN_PASSWORD'],
        message: 'a secret of at least 12 characters is required in production',
      });
    }
    if (config.NODE_ENV === 'production' && !config.REDIS_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['REDIS_URL'],
        message: 'is required in production: rate limits must be shared by every replica',
      });
    }
    if (config.REFRESH_IDLE_SECONDS > config.REFRESH_ABSOLUTE_SECONDS) {
      ctx.addIssue({
        code: 'custom',
        path: ['REFRESH_IDLE_SECONDS'],
        message: 'must not exceed REFRESH_ABSOLUTE_SECONDS',
      });
    }
  })
  .transform(withDevelopmentAuthIssuer);

export type AuthConfig = z.infer<typeof authConfigSchema>;

export const AUTH_CONFIG = Symbol('AUTH_CONFIG');

export function loadAuthConfig(env: NodeJS.ProcessEnv = process.env): AuthConfig {
  return loadConfig(authConfigSchema, env);
}
