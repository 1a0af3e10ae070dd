import { randomBytes } from 'node:crypto';
import { loadUsersConfig } from './users.config';

const base = { DATABASE_URL: 'postgres://u:p@h/db', NATS_URL: 'nats://h:4222' };
const production = {
  ...base,
  NODE_ENV: 'production',
  CLIENT_SECRET: randomBytes(32).toString('base64url'),
  METRICS_TOKEN: randomBytes(32).toString('hex'),
  NATS_USER: 'users',
  NATS_PASSWORD: randomBytes(32).toString('hex'),
  AUTH_ISSUER: 'https://auth.example.com',
};

it('accepts a complete production config', () => {
  expect(loadUsersConfig(production).AUTH_ISSUER).toBe('https://auth.example.com');
});

it('refuses production without AUTH_ISSUER, whose JWKS it trusts; defaults it elsewhere', () => {
  expect(() => loadUsersConfig({ ...production, AUTH_ISSUER: undefined })).toThrow(
    /AUTH_ISSUER: is required in production/,
  );
  expect(loadUsersConfig(base).AUTH_ISSUER).toBe('http://localhost:3001');
});

it('refuses production without its own NATS login', () => {
  expect(() => loadUsersConfig({ ...production, NATS_USER: undefined })).toThrow(/NATS_USER/);
  expect(() => loadUsersConfig({ ...production, NATS_PASSWORD: undefined })).toThrow(
    /NATS_PASSWORD/,
  );
});

it('refuses a CLIENT_SECRET shorter than the 43 characters auth requires of the same secret', () => {
  expect(() => loadUsersConfig({ ...production, CLIENT_SECRET: 'a'.repeat(42) })).toThrow(
    /CLIENT_SECRET/,
  );
  expect(
    loadUsersConfig({ ...production, CLIENT_SECRET: 'a'.repeat(43) }).CLIENT_SECRET,
  ).toHaveLength(43);
});

it('takes NATS_CA_FILE with a tls:// NATS_URL only', () => {
  const tls = { ...production, NATS_URL: 'tls://nats:4222', NATS_CA_FILE: '/etc/nats/ca.pem' };
  expect(loadUsersConfig(tls).NATS_CA_FILE).toBe('/etc/nats/ca.pem');
  expect(() => loadUsersConfig({ ...tls, NATS_URL: 'nats://nats:4222' })).toThrow(
    /NATS_CA_FILE: is for a tls:\/\/ NATS_URL only/,
  );
});
