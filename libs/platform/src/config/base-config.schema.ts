import { z } from 'zod';

/** Names of the environment variables every service reads. */
export const ENV = {
  NODE_ENV: 'NODE_ENV',
  HOST: 'HOST',
  PORT: 'PORT',
  LOG_LEVEL: 'LOG_LEVEL',
  DATABASE_URL: 'DATABASE_URL',
  NATS_URL: 'NATS_URL',
  NATS_USER: 'NATS_USER',
  NATS_PASSWORD: 'NATS_PASSWORD',
  NATS_CA_FILE: 'NATS_CA_FILE',
  CORS_ORIGINS: 'CORS_ORIGINS',
  TRUST_PROXY: 'TRUST_PROXY',
  BODY_LIMIT_BYTES: 'BODY_LIMIT_BYTES',
  SHUTDOWN_DELAY_MS: 'SHUTDOWN_DELAY_MS',
  PROTO_DIR: 'PROTO_DIR',
  METRICS_TOKEN: 'METRICS_TOKEN',
  METRICS_TOKEN_PREVIOUS: 'METRICS_TOKEN_PREVIOUS',
  HTTP_TLS_CERT_FILE: 'HTTP_TLS_CERT_FILE',
  HTTP_TLS_KEY_FILE: 'HTTP_TLS_KEY_FILE',
  HTTP_PLAINTEXT: 'HTTP_PLAINTEXT',
} as const;

const origin = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value;
  } catch {
    return false;
  }
}, 'each origin must be scheme://host[:port] with no path, and "*" is not allowed');

/**
 * `TRUST_PROXY`: `false` (default: the socket address is the client), a hop count, or a
 * comma-separated list of proxy addresses/CIDRs. `true` (trust every hop) is refused in
 * production because it lets any client spoof X-Forwarded-For.
 */
const trustProxy = z
  .string()
  .default('false')
  .transform((value, ctx): boolean | number | string[] => {
    const trimmed = value.trim();
    if (trimmed === 'false' || trimmed === '') return false;
    if (trimmed === 'true') return true;
    if (/^\d+$/.test(trimmed)) return Number(trimmed);
    const list = trimmed.split(',').map((entry) => entry.trim());
    if (list.every((entry) => /^[0-9a-fA-F.:]+(\/\d{1,3})?$/.test(entry))) return list;
    ctx.addIssue({
      code: 'custom',
      message: 'must be false, true, a hop count or a list of CIDRs',
    });
    return z.NEVER;
  });

/** `HTTP_PLAINTEXT`, `GRPC_PLAINTEXT`: "true" or "false" (the default), as a boolean. */
export const plaintextFlag = z
  .enum(['true', 'false'], { message: 'must be true or false' })
  .default('false')
  .transform((value) => value === 'true');

/**
 * For a `superRefine`: a transport's TLS files come all together (`together` says why, if
 * more than "it needs them"), never with its plaintext flag, and production refuses the
 * transport without them unless the flag says plaintext is meant (`production` is the message).
 * Returns the files that are given.
 */
export function refineTlsFiles<K extends string>(
  config: { NODE_ENV: string } & { [name in K]?: string },
  ctx: z.RefinementCtx,
  rule: {
    files: readonly K[];
    plaintext: { name: string; value: boolean };
    together?: string;
    production: string;
  },
): K[] {
  const given = rule.files.filter((name) => config[name] !== undefined);
  if (given.length > 0 && given.length < rule.files.length) {
    for (const name of rule.files.filter((file) => !given.includes(file))) {
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: `is required with ${given.join(', ')}${rule.together ? `: ${rule.together}` : ''}`,
      });
    }
  }
  if (given.length > 0 && rule.plaintext.value) {
    ctx.addIssue({
      code: 'custom',
      path: [rule.plaintext.name],
      message: `true contradicts ${given.join(', ')}`,
    });
  }
  if (config.NODE_ENV === 'production' && given.length === 0 && !rule.plaintext.value) {
    ctx.addIssue({ code: 'custom', path: [rule.files[0]], message: rule.production });
  }
  return given;
}

/** An RFC 6750 b64token, so that a scraper can send it as it is; empty means unset. */
const metricsToken = z.preprocess(
  (value) => (value === '' ? undefined : value),
  z
    .string()
    .regex(/^[A-Za-z0-9\-._~+/]+=*$/, 'letters, digits and -._~+/ only (openssl rand -hex 32)')
    .optional(),
);

const baseConfigShape = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  HOST: z.string().default('0.0.0.0'),
  PORT: z.coerce.number().int().min(1).max(65535),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z
    .string({ message: 'is required (postgres://user:password@host:port/database)' })
    .refine((value) => /^postgres(ql)?:\/\//.test(value), 'must be a postgres:// URL'),
  NATS_URL: z
    .string({ message: 'is required (nats://host:port)' })
    .refine((value) => /^(nats|tls):\/\//.test(value), 'must be a nats:// or tls:// URL'),
  NATS_USER: z.string().min(1).optional(),
  NATS_PASSWORD: z.string().min(1).optional(),
  /** A PEM CA bundle to trust for a `tls://` NATS_URL; unset, Node's default CAs. */
  NATS_CA_FILE: z.string().min(1).optional(),
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
    )
    .pipe(z.array(origin)),
  TRUST_PROXY: trustProxy,
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(10 * 1024 * 1024)
    .default(64 * 1024),
  SHUTDOWN_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(0),
  PROTO_DIR: z.string().optional(),
  /** The bearer token Prometheus presents on `GET /metrics`; unset, /metrics is open (outside production only). */
  METRICS_TOKEN: metricsToken,
  /** During a METRICS_TOKEN rotation only: the value the scraper may still send. */
  METRICS_TOKEN_PREVIOUS: metricsToken,
  /** PEM certificate (chain) and key: the service serves HTTPS on PORT, and no plain HTTP. */
  HTTP_TLS_CERT_FILE: z.string().min(1).optional(),
  HTTP_TLS_KEY_FILE: z.string().min(1).optional(),
  /**
   * `true`: plain HTTP in production, where a mesh encrypts pod traffic or (compose) the network
   * is one host's. Outside production plain HTTP needs no flag.
   */
  HTTP_PLAINTEXT: plaintextFlag,
});

/**
 * What every service reads. Services add their own variables with `.safeExtend` (`.extend`
 * refuses to redefine a variable of a schema with checks, and `.safeExtend` keeps the checks).
 */
export const baseConfigSchema = baseConfigShape.superRefine((config, ctx) => {
  // HTTPS needs both files; plain HTTP in production is said in so many words: passwords,
  // refresh cookies and bearer tokens cross the pod network on this port.
  refineTlsFiles(config, ctx, {
    files: [ENV.HTTP_TLS_CERT_FILE, ENV.HTTP_TLS_KEY_FILE],
    plaintext: { name: ENV.HTTP_PLAINTEXT, value: config.HTTP_PLAINTEXT },
    production:
      'is required in production, with HTTP_TLS_KEY_FILE: passwords and bearer tokens must not ' +
      'cross the network in clear (HTTP_PLAINTEXT=true only where a mesh encrypts pod traffic, or on one host)',
  });
  // nats:// is plaintext: a CA given with it would be ignored, and the operator meant TLS.
  if (config.NATS_CA_FILE !== undefined && !config.NATS_URL.startsWith('tls://')) {
    ctx.addIssue({
      code: 'custom',
      path: [ENV.NATS_CA_FILE],
      message: 'is for a tls:// NATS_URL only (nats:// is plaintext and would ignore it)',
    });
  }
});

export type BaseConfig = z.infer<typeof baseConfigSchema>;

/**
 * `AUTH_ISSUER` outside production when unset (SPEC §1). In production it must be given: a
 * container's localhost is not the issuer, and a service would fail every token, or mint
 * tokens (auth) that no other service accepts.
 */
export const DEVELOPMENT_AUTH_ISSUER = 'http://localhost:3001';

/**
 * A service's config with AUTH_ISSUER filled in: as configured, else (outside production, where
 * `refineProduction(..., ['AUTH_ISSUER'])` requires it) DEVELOPMENT_AUTH_ISSUER. For `.transform`.
 */
export function withDevelopmentAuthIssuer<T extends { AUTH_ISSUER?: string }>(
  config: T,
): T & { AUTH_ISSUER: string } {
  return { ...config, AUTH_ISSUER: config.AUTH_ISSUER ?? DEVELOPMENT_AUTH_ISSUER };
}

/**
 * Refinement shared by every service: in production, every secret (the service's own,
 * METRICS_TOKEN and the NATS password, which every service has) must be set and strong, each
 * of `required` must be set, the service must log in to NATS as its own user (the broker's
 * permissions, deploy/nats/permissions.conf, are what keeps it to its own subjects), and
 * trusting every proxy hop is refused.
 */
export function refineProduction<T extends BaseConfig>(
  config: T,
  ctx: z.RefinementCtx,
  secrets: { [K in keyof T]?: { minLength: number } },
  required: readonly (keyof T & string)[] = [],
): void {
  if (config.NODE_ENV !== 'production') return;
  for (const name of [ENV.NATS_USER, ...required]) {
    const value = (config as Record<string, unknown>)[name];
    if (value === undefined || value === '') {
      ctx.addIssue({ code: 'custom', path: [name], message: 'is required in production' });
    }
  }
  if (config.TRUST_PROXY === true) {
    ctx.addIssue({
      code: 'custom',
      path: [ENV.TRUST_PROXY],
      message: 'true trusts any X-Forwarded-For in production; give a hop count or proxy CIDRs',
    });
  }
  const rules = {
    [ENV.METRICS_TOKEN]: { minLength: 32 },
    [ENV.NATS_PASSWORD]: { minLength: 32 },
    ...secrets,
  };
  for (const [name, rule] of Object.entries(rules) as [string, { minLength: number }][]) {
    const value = (config as Record<string, unknown>)[name];
    if (typeof value !== 'string' || value.length < rule.minLength) {
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: `a secret of at least ${rule.minLength} characters is required in production`,
      });
    }
  }
}
