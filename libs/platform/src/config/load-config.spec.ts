import { z } from 'zod';
import { baseConfigSchema, refineProduction } from './base-config.schema';
import { ConfigError, loadConfig } from './load-config';

const valid = {
  PORT: '3002',
  DATABASE_URL: 'postgres://u:p@localhost:5432/users',
  NATS_URL: 'nats://localhost:4222',
  // HTTPS, which production requires unless HTTP_PLAINTEXT=true.
  HTTP_TLS_CERT_FILE: '/etc/service-tls/tls.crt',
  HTTP_TLS_KEY_FILE: '/etc/service-tls/tls.key',
};
const plainHttp = { HTTP_TLS_CERT_FILE: undefined, HTTP_TLS_KEY_FILE: undefined };

/** What every service needs in production besides its own settings. */
const natsLogin = { NATS_USER: 'users', NATS_PASSWORD: 'n'.repeat(32) };

const withSecret = baseConfigSchema
  .extend({ CLIENT_SECRET: z.string().optional() })
  .superRefine((config, ctx) =>
    refineProduction(config, ctx, { CLIENT_SECRET: { minLength: 32 } }),
  );

function problemsOf(env: NodeJS.ProcessEnv, schema: z.ZodType = baseConfigSchema): string[] {
  try {
    loadConfig(schema, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('names each missing or malformed variable', () => {
    const problems = problemsOf({ PORT: 'eighty', NATS_URL: 'http://nats' });
    expect(problems).toEqual([
      expect.stringMatching(/^PORT: /),
      expect.stringMatching(/^DATABASE_URL: is required/),
      expect.stringMatching(/^NATS_URL: must be a nats:\/\/ or tls:\/\/ URL/),
    ]);
  });

  it('never echoes the value of a variable, which may be a secret', () => {
    const problems = problemsOf({ ...valid, DATABASE_URL: 'mysql://root:hunter2-secret@db/users' });
    expect(problems.join('\n')).not.toContain('hunter2-secret');
  });

  it('refuses a CORS wildcard or an origin with a path', () => {
    expect(problemsOf({ ...valid, CORS_ORIGINS: '*' })).toEqual([
      expect.stringMatching(/^CORS_ORIGINS\.0: /),
    ]);
    expect(problemsOf({ ...valid, CORS_ORIGINS: 'https://app.example.com/path' })).toHaveLength(1);
    expect(
      loadConfig(baseConfigSchema, { ...valid, CORS_ORIGINS: 'https://app.example.com' })
        .CORS_ORIGINS,
    ).toEqual(['https://app.example.com']);
  });

  it('refuses a missing or weak secret in production only', () => {
    const metrics = { METRICS_TOKEN: 'm'.repeat(32), ...natsLogin };
    expect(loadConfig(withSecret, { ...valid }).CLIENT_SECRET).toBeUndefined();
    expect(problemsOf({ ...valid, ...metrics, NODE_ENV: 'production' }, withSecret)).toEqual([
      'CLIENT_SECRET: a secret of at least 32 characters is required in production',
    ]);
    expect(
      problemsOf(
        { ...valid, ...metrics, NODE_ENV: 'production', CLIENT_SECRET: 'short' },
        withSecret,
      ),
    ).toHaveLength(1);
    expect(() =>
      loadConfig(withSecret, {
        ...valid,
        ...metrics,
        NODE_ENV: 'production',
        CLIENT_SECRET: 'x'.repeat(32),
      }),
    ).not.toThrow();
  });

  it('asks every service for a strong METRICS_TOKEN in production, a b64token anywhere', () => {
    const service = baseConfigSchema.superRefine((config, ctx) =>
      refineProduction(config, ctx, {}),
    );
    const production = { ...valid, ...natsLogin, NODE_ENV: 'production' };
    const required = 'METRICS_TOKEN: a secret of at least 32 characters is required in production';
    expect(loadConfig(service, valid).METRICS_TOKEN).toBeUndefined();
    expect(problemsOf(production, service)).toEqual([required]);
    expect(problemsOf({ ...production, METRICS_TOKEN: 'm'.repeat(31) }, service)).toEqual([
      required,
    ]);
    expect(loadConfig(service, { ...production, METRICS_TOKEN: 'm'.repeat(32) })).toEqual(
      expect.objectContaining({ METRICS_TOKEN: 'm'.repeat(32) }),
    );
    // An empty value (an env file's `METRICS_TOKEN_PREVIOUS=`) is unset, not a token.
    expect(
      loadConfig(service, { ...valid, METRICS_TOKEN: '', METRICS_TOKEN_PREVIOUS: '' }),
    ).toEqual(
      expect.objectContaining({ METRICS_TOKEN: undefined, METRICS_TOKEN_PREVIOUS: undefined }),
    );
    expect(problemsOf({ ...production, METRICS_TOKEN: '' }, service)).toEqual([required]);
    // A token a scraper could not send as `Bearer <token>` would lock Prometheus out.
    expect(problemsOf({ ...valid, METRICS_TOKEN: 'two words' }, service)).toEqual([
      expect.stringMatching(/^METRICS_TOKEN: letters, digits/),
    ]);
  });

  it('serves HTTPS with a certificate and its key, and plain HTTP in production only with HTTP_PLAINTEXT=true', () => {
    const service = baseConfigSchema.superRefine((config, ctx) =>
      refineProduction(config, ctx, {}),
    );
    const production = {
      ...valid,
      ...natsLogin,
      NODE_ENV: 'production',
      METRICS_TOKEN: 'm'.repeat(32),
    };
    expect(loadConfig(service, production).HTTP_TLS_CERT_FILE).toBe('/etc/service-tls/tls.crt');
    expect(problemsOf({ ...production, ...plainHttp }, service)).toEqual([
      expect.stringMatching(
        /^HTTP_TLS_CERT_FILE: is required in production, with HTTP_TLS_KEY_FILE/,
      ),
    ]);
    expect(
      loadConfig(service, { ...production, ...plainHttp, HTTP_PLAINTEXT: 'true' }).HTTP_PLAINTEXT,
    ).toBe(true);
    expect(loadConfig(service, { ...valid, ...plainHttp }).HTTP_PLAINTEXT).toBe(false);
    expect(problemsOf({ ...valid, HTTP_TLS_KEY_FILE: undefined })).toEqual([
      'HTTP_TLS_KEY_FILE: is required with HTTP_TLS_CERT_FILE',
    ]);
    expect(problemsOf({ ...valid, HTTP_TLS_CERT_FILE: undefined })).toEqual([
      'HTTP_TLS_CERT_FILE: is required with HTTP_TLS_KEY_FILE',
    ]);
    expect(problemsOf({ ...valid, HTTP_PLAINTEXT: 'true' })).toEqual([
      expect.stringMatching(/^HTTP_PLAINTEXT: true contradicts/),
    ]);
    expect(problemsOf({ ...valid, HTTP_PLAINTEXT: 'yes' })).toEqual([
      expect.stringMatching(/^HTTP_PLAINTEXT: /),
    ]);
  });

  it('refuses to trust every proxy hop in production, where X-Forwarded-For would be spoofable', () => {
    const production = {
      ...valid,
      NODE_ENV: 'production',
      CLIENT_SECRET: 'x'.repeat(32),
      METRICS_TOKEN: 'm'.repeat(32),
      ...natsLogin,
    };
    expect(problemsOf({ ...production, TRUST_PROXY: 'true' }, withSecret)).toEqual([
      expect.stringMatching(/^TRUST_PROXY: /),
    ]);
    expect(
      loadConfig(withSecret, { ...production, TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).TRUST_PROXY,
    ).toEqual(['10.0.0.0/8', '127.0.0.1']);
    expect(loadConfig(baseConfigSchema, valid).TRUST_PROXY).toBe(false);
  });

  it('asks every service in production for its own NATS login, and for what it names as required', () => {
    const service = baseConfigSchema
      .extend({ AUTH_ISSUER: z.url().optional() })
      .superRefine((config, ctx) => refineProduction(config, ctx, {}, ['AUTH_ISSUER']));
    const production = {
      ...valid,
      NODE_ENV: 'production',
      METRICS_TOKEN: 'm'.repeat(32),
      AUTH_ISSUER: 'https://auth.example.com',
    };
    // Without a login the broker's per-service permissions (deploy/nats/permissions.conf) do
    // not apply: any subject could be published or read.
    expect(problemsOf(production, service)).toEqual([
      'NATS_USER: is required in production',
      'NATS_PASSWORD: a secret of at least 32 characters is required in production',
    ]);
    expect(problemsOf({ ...production, ...natsLogin, NATS_PASSWORD: 'short' }, service)).toEqual([
      'NATS_PASSWORD: a secret of at least 32 characters is required in production',
    ]);
    expect(problemsOf({ ...production, ...natsLogin, AUTH_ISSUER: undefined }, service)).toEqual([
      'AUTH_ISSUER: is required in production',
    ]);
    expect(loadConfig(service, { ...production, ...natsLogin })).toEqual(
      expect.objectContaining({ NATS_USER: 'users', AUTH_ISSUER: 'https://auth.example.com' }),
    );
    // Outside production neither is asked for.
    expect(() => loadConfig(service, valid)).not.toThrow();
  });

  it('takes NATS_CA_FILE for a tls:// NATS_URL only, also in a service that adds its own variables', () => {
    const service = baseConfigSchema
      .safeExtend({ PORT: z.coerce.number().int().default(3002) })
      .superRefine((config, ctx) => refineProduction(config, ctx, {}));
    const tls = {
      ...valid,
      NATS_URL: 'tls://nats.internal:4222',
      NATS_CA_FILE: '/etc/nats/ca.pem',
    };
    expect(loadConfig(baseConfigSchema, tls).NATS_CA_FILE).toBe('/etc/nats/ca.pem');
    expect(loadConfig(service, tls).NATS_CA_FILE).toBe('/etc/nats/ca.pem');
    // Node's default CAs then.
    expect(loadConfig(baseConfigSchema, { ...tls, NATS_CA_FILE: undefined }).NATS_CA_FILE).toBe(
      undefined,
    );
    // With nats:// the CA would be ignored and the connection plaintext: the operator meant TLS.
    const refused =
      'NATS_CA_FILE: is for a tls:// NATS_URL only (nats:// is plaintext and would ignore it)';
    for (const schema of [baseConfigSchema, service]) {
      expect(problemsOf({ ...valid, NATS_CA_FILE: '/etc/nats/ca.pem' }, schema)).toEqual([refused]);
    }
    expect(problemsOf({ ...tls, NATS_CA_FILE: '' })).toEqual([
      expect.stringMatching(/^NATS_CA_FILE: /),
    ]);
  });
});
