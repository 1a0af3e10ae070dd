import { randomBytes } from 'node:crypto';
import { loadAuthConfig } from './auth.config';

const base = { DATABASE_URL: 'postgres://u:p@h/db', NATS_URL: 'nats://h:4222' };
const production = {
  ...base,
  NODE_ENV: 'production',
  KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  ADMIN_EMAIL: 'admin@example.test',
  ADMIN_PASSWORD: 'a long admin passphrase',
  USERS_CLIENT_SECRET: randomBytes(32).toString('base64url'),
  ORDERS_CLIENT_SECRET: randomBytes(32).toString('base64url'),
  REDIS_URL: 'redis://h:6379',
  METRICS_TOKEN: randomBytes(32).toString('hex'),
  NATS_USER: 'auth',
  NATS_PASSWORD: randomBytes(32).toString('hex'),
  AUTH_ISSUER: 'https://auth.example.com',
  HTTP_TLS_CERT_FILE: '/etc/service-tls/tls.crt',
  HTTP_TLS_KEY_FILE: '/etc/service-tls/tls.key',
};

it('accepts a complete production config', () => {
  expect(loadAuthConfig(production).SIGNING_ALG).toBe('ES256');
});

it('refuses production without METRICS_TOKEN (/metrics would be open)', () => {
  expect(() => loadAuthConfig({ ...production, METRICS_TOKEN: undefined })).toThrow(
    /METRICS_TOKEN/,
  );
});

it('refuses production without AUTH_ISSUER (a container has no issuer on localhost), defaults it elsewhere', () => {
  expect(() => loadAuthConfig({ ...production, AUTH_ISSUER: undefined })).toThrow(
    /AUTH_ISSUER: is required in production/,
  );
  expect(loadAuthConfig(base).AUTH_ISSUER).toBe('http://localhost:3001');
  expect(loadAuthConfig(production).AUTH_ISSUER).toBe('https://auth.example.com');
});

it('refuses production without REDIS_URL (rate limits must be shared)', () => {
  expect(() => loadAuthConfig({ ...production, REDIS_URL: undefined })).toThrow(/REDIS_URL/);
});

it('refuses production without KEY_ENCRYPTION_KEY', () => {
  expect(() => loadAuthConfig({ ...production, KEY_ENCRYPTION_KEY: undefined })).toThrow(
    /KEY_ENCRYPTION_KEY/,
  );
});

it('refuses a client secret under 256 bits in any environment', () => {
  expect(() => loadAuthConfig({ ...base, USERS_CLIENT_SECRET: 'short' })).toThrow(
    /USERS_CLIENT_SECRET/,
  );
});

it('refuses a key encryption key that is not 32 bytes', () => {
  expect(() =>
    loadAuthConfig({ ...base, KEY_ENCRYPTION_KEY: randomBytes(16).toString('base64') }),
  ).toThrow(/KEY_ENCRYPTION_KEY/);
});

it('takes a previous key encryption key only beside a different current one', () => {
  const previous = randomBytes(32).toString('base64');
  expect(
    loadAuthConfig({ ...production, KEY_ENCRYPTION_KEY_PREVIOUS: previous })
      .KEY_ENCRYPTION_KEY_PREVIOUS,
  ).toBe(previous);
  expect(() => loadAuthConfig({ ...base, KEY_ENCRYPTION_KEY_PREVIOUS: previous })).toThrow(
    /KEY_ENCRYPTION_KEY_PREVIOUS.*needs KEY_ENCRYPTION_KEY/,
  );
  expect(() =>
    loadAuthConfig({
      ...production,
      KEY_ENCRYPTION_KEY_PREVIOUS: production.KEY_ENCRYPTION_KEY,
    }),
  ).toThrow(/must differ/);
  expect(() =>
    loadAuthConfig({
      ...production,
      KEY_ENCRYPTION_KEY_PREVIOUS: randomBytes(8).toString('base64'),
    }),
  ).toThrow(/KEY_ENCRYPTION_KEY_PREVIOUS/);
});

it('accepts production without ADMIN_PASSWORD (needed only until an admin exists), refuses a short one', () => {
  expect(
    loadAuthConfig({ ...production, ADMIN_PASSWORD: undefined }).ADMIN_PASSWORD,
  ).toBeUndefined();
  expect(() => loadAuthConfig({ ...production, ADMIN_PASSWORD: 'short' })).toThrow(
    /ADMIN_PASSWORD/,
  );
});

it('takes NATS_CA_FILE with a tls:// NATS_URL only', () => {
  const tls = { ...production, NATS_URL: 'tls://nats:4222', NATS_CA_FILE: '/etc/nats/ca.pem' };
  expect(loadAuthConfig(tls).NATS_CA_FILE).toBe('/etc/nats/ca.pem');
  expect(() => loadAuthConfig({ ...tls, NATS_URL: 'nats://nats:4222' })).toThrow(
    /NATS_CA_FILE: is for a tls:\/\/ NATS_URL only/,
  );
});
