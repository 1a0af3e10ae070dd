import { postJson, startAuthTestApp, uniqueEmail, type AuthTestApp } from './support/auth-test-app';

let auth: AuthTestApp;
beforeAll(async () => {
  auth = await startAuthTestApp('auth_proxy', {
    LOGIN_MAX_ATTEMPTS_PER_IP: '3',
    TRUST_PROXY: '127.0.0.1',
  });
});
afterAll(async () => auth?.close());

it('counts per forwarded client IP when the proxy is trusted by config', async () => {
  const attempt = (ip: string) =>
    postJson(
      `${auth.url}/auth/login`,
      { email: uniqueEmail(), password: 'wrong password' },
      { 'x-forwarded-for': ip },
    );
  for (let i = 0; i < 3; i++) expect((await attempt('203.0.113.7')).status).toBe(401);
  expect((await attempt('203.0.113.7')).status).toBe(429);
  expect((await attempt('203.0.113.8')).status).toBe(401);
});
