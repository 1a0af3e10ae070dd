import { postJson, startAuthTestApp, uniqueEmail, type AuthTestApp } from './support/auth-test-app';

/** A failed login from `forwardedFor`, as a proxy in front of `app` would forward it. */
const failedLogin = (app: AuthTestApp, forwardedFor: string) =>
  postJson(
    `${app.url}/auth/login`,
    { email: uniqueEmail(), password: 'wrong password' },
    { 'x-forwarded-for': forwardedFor },
  );

let auth: AuthTestApp;
beforeAll(async () => {
  auth = await startAuthTestApp('auth_proxy', {
    LOGIN_MAX_ATTEMPTS_PER_IP: '3',
    TRUST_PROXY: '127.0.0.1',
  });
});
afterAll(async () => auth?.close());

it('counts per forwarded client IP when the proxy is trusted by config', async () => {
  const attempt = (ip: string) => failedLogin(auth, ip);
  for (let i = 0; i < 3; i++) expect((await attempt('203.0.113.7')).status).toBe(401);
  expect((await attempt('203.0.113.7')).status).toBe(429);
  expect((await attempt('203.0.113.8')).status).toBe(401);
});

it('counts an IPv6 client per /64: it could draw a new address from it for every attempt', async () => {
  const attempt = (ip: string) => failedLogin(auth, ip);
  for (const ip of [
    '2001:db8:1:2::1',
    '2001:db8:1:2:a:b:c:d',
    '2001:db8:1:2:ffff:ffff:ffff:ffff',
  ]) {
    expect((await attempt(ip)).status).toBe(401);
  }
  expect((await attempt('2001:db8:1:2:dead:beef:0:1')).status).toBe(429);
  expect((await attempt('2001:db8:1:3::1')).status).toBe(401);
});

describe('with a hop count (only the proxy can reach the service, as in k8s)', () => {
  let behindOneHop: AuthTestApp;
  beforeAll(async () => {
    behindOneHop = await startAuthTestApp('auth_proxy_hops', {
      LOGIN_MAX_ATTEMPTS_PER_IP: '3',
      TRUST_PROXY: '1',
    });
  });
  afterAll(async () => behindOneHop?.close());

  it('counts per client IP the proxy appended, not per address a client wrote before it', async () => {
    const attempt = (forwardedFor: string) => failedLogin(behindOneHop, forwardedFor);
    for (let i = 0; i < 3; i++) {
      expect((await attempt(`198.51.100.${i}, 203.0.113.7`)).status).toBe(401);
    }
    expect((await attempt('198.51.100.9, 203.0.113.7')).status).toBe(429);
    expect((await attempt('203.0.113.8')).status).toBe(401);
  });
});
