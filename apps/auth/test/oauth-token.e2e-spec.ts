import { createLocalJWKSet, jwtVerify } from 'jose';
import {
  asJson,
  basic,
  decodeJwt,
  postForm,
  startAuthTestApp,
  type AuthTestApp,
} from './support/auth-test-app';
import { rawHttpStatus } from '../../../test/support/raw-http';
import { ClientCredentialsGrant } from '../src/oauth/grants/client-credentials.grant';

let auth: AuthTestApp;
let tokenUrl: string;
beforeAll(async () => {
  auth = await startAuthTestApp('auth_oauth');
  tokenUrl = `${auth.url}/oauth/token`;
});
afterAll(async () => auth?.close());

const usersBasic = () => basic('users', auth.usersSecret);

async function expectOAuthError(response: Response, status: number, error: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.get('pragma')).toBe('no-cache');
  const body = await response.json().then(asJson);
  expect(Object.keys(body).sort()).toEqual(['error', 'error_description']);
  expect(body.error).toBe(error);
  return body;
}

describe('client_credentials', () => {
  it('issues an at+jwt for the one audience asked for, verifiable with the JWKS', async () => {
    const response = await postForm(
      tokenUrl,
      { grant_type: 'client_credentials', audience: 'orders' },
      usersBasic(),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('pragma')).toBe('no-cache');
    const body = await response.json().then(asJson);
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 300, scope: 'orders:read' });
    const { header } = decodeJwt(body.access_token);
    expect(header).toMatchObject({ typ: 'at+jwt', alg: 'ES256' });
    expect(typeof header.kid).toBe('string');
    const jwks = await (await fetch(`${auth.url}/.well-known/jwks.json`)).json().then(asJson);
    const { payload } = await jwtVerify(body.access_token, createLocalJWKSet(jwks), {
      issuer: auth.config.AUTH_ISSUER,
      audience: 'orders',
      typ: 'at+jwt',
    });
    expect(payload).toMatchObject({
      sub: 'users',
      client_id: 'users',
      aud: 'orders',
      scope: 'orders:read',
    });
    expect(payload.exp! - payload.iat!).toBe(300);
    expect(typeof payload.jti).toBe('string');
  });

  it('takes the audience from an RFC 8707 resource parameter', async () => {
    const response = await postForm(
      tokenUrl,
      { grant_type: 'client_credentials', resource: 'events' },
      usersBasic(),
    );
    expect(response.status).toBe(200);
    const { payload } = decodeJwt((await response.json().then(asJson)).access_token);
    expect(payload).toMatchObject({ aud: 'events', scope: 'events:publish' });
  });

  it('refuses a wrong secret with 401 invalid_client and a Basic challenge', async () => {
    const response = await postForm(
      tokenUrl,
      { grant_type: 'client_credentials', audience: 'orders' },
      basic('users', `${auth.usersSecret.slice(0, -1)}x`),
    );
    const body = await expectOAuthError(response, 401, 'invalid_client');
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm="auth"/);
    expect(body.error_description).toBe('client authentication failed');
  });

  it('answers an unknown client exactly like a wrong secret', async () => {
    const response = await postForm(
      tokenUrl,
      { grant_type: 'client_credentials', audience: 'orders' },
      basic('nobody', auth.usersSecret),
    );
    const body = await expectOAuthError(response, 401, 'invalid_client');
    expect(body.error_description).toBe('client authentication failed');
  });

  it('answers a Basic client id no client can have (a NUL byte) with invalid_client, not a 500', async () => {
    // basic() form-urlencodes the id: `users%00`, which decodes to "users\u0000".
    for (const id of ['users\u0000', '\u0000', '']) {
      const response = await postForm(
        tokenUrl,
        { grant_type: 'client_credentials', audience: 'orders' },
        basic(id, auth.usersSecret),
      );
      const body = await expectOAuthError(response, 401, 'invalid_client');
      expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm="auth"/);
      expect(body.error_description).toBe('client authentication failed');
    }
    const revoke = await postForm(
      `${auth.url}/oauth/revoke`,
      { token: 'a.b' },
      basic('users\u0000', auth.usersSecret),
    );
    await expectOAuthError(revoke, 401, 'invalid_client');
  });

  it('answers a private_key_jwt assertion whose sub no client can have with invalid_client', async () => {
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const claims = { iss: 'x\u0000', sub: 'x\u0000', aud: auth.config.AUTH_ISSUER, jti: 'j' };
    const response = await postForm(tokenUrl, {
      grant_type: 'client_credentials',
      audience: 'orders',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: `${b64({ alg: 'ES256' })}.${b64(claims)}.AAAA`,
    });
    const body = await expectOAuthError(response, 401, 'invalid_client');
    expect(body.error_description).toBe('client authentication failed');
  });

  it('refuses Basic and body credentials together (RFC 6749 §2.3)', async () => {
    const response = await postForm(
      tokenUrl,
      {
        grant_type: 'client_credentials',
        audience: 'orders',
        client_id: 'users',
        client_secret: auth.usersSecret,
      },
      usersBasic(),
    );
    await expectOAuthError(response, 400, 'invalid_request');
  });

  it('refuses two Authorization fields at the token and revocation endpoints (RFC 6749 §2.3)', async () => {
    const twoBasics = (path: string, body: string) =>
      rawHttpStatus(auth.url, {
        method: 'POST',
        path,
        headerLines: [
          'Content-Type: application/x-www-form-urlencoded',
          `Authorization: ${usersBasic()}`,
          `Authorization: ${basic('orders', 'not-the-secret')}`,
        ],
        body,
      });
    expect(await twoBasics('/oauth/token', 'grant_type=client_credentials&audience=orders')).toBe(
      400,
    );
    expect(await twoBasics('/oauth/revoke', 'token=opaque-refresh-token')).toBe(400);
    // One field of the same request is served.
    const one = await postForm(
      tokenUrl,
      { grant_type: 'client_credentials', audience: 'orders' },
      usersBasic(),
    );
    expect(one.status).toBe(200);
  });

  it('refuses client_secret_post', async () => {
    const response = await postForm(tokenUrl, {
      grant_type: 'client_credentials',
      audience: 'orders',
      client_id: 'users',
      client_secret: auth.usersSecret,
    });
    await expectOAuthError(response, 401, 'invalid_client');
  });

  it('refuses a repeated parameter (RFC 6749 §3.2)', async () => {
    const response = await fetch(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: usersBasic() },
      body: 'grant_type=client_credentials&audience=orders&scope=orders:read&scope=orders:read',
    });
    const body = await expectOAuthError(response, 400, 'invalid_request');
    expect(body.error_description).toContain('scope');
  });

  it('refuses an unsupported grant type', async () => {
    const response = await postForm(
      tokenUrl,
      { grant_type: 'password', username: 'a', password: 'b' },
      usersBasic(),
    );
    await expectOAuthError(response, 400, 'unsupported_grant_type');
  });

  it('refuses a missing grant type', async () => {
    await expectOAuthError(
      await postForm(tokenUrl, { audience: 'orders' }, usersBasic()),
      400,
      'invalid_request',
    );
  });

  it('refuses a scope outside the client allowlist', async () => {
    const response = await postForm(
      tokenUrl,
      { grant_type: 'client_credentials', audience: 'orders', scope: 'orders:read orders:write' },
      usersBasic(),
    );
    await expectOAuthError(response, 400, 'invalid_scope');
  });

  it('refuses a scope of another audience', async () => {
    const response = await postForm(
      tokenUrl,
      { grant_type: 'client_credentials', audience: 'orders', scope: 'events:publish' },
      usersBasic(),
    );
    await expectOAuthError(response, 400, 'invalid_scope');
  });

  it('refuses an audience the client may not have with invalid_target (RFC 8707)', async () => {
    const response = await postForm(
      tokenUrl,
      { grant_type: 'client_credentials', audience: 'users' },
      usersBasic(),
    );
    await expectOAuthError(response, 400, 'invalid_target');
  });

  it('refuses a request without an audience with invalid_target', async () => {
    await expectOAuthError(
      await postForm(tokenUrl, { grant_type: 'client_credentials' }, usersBasic()),
      400,
      'invalid_target',
    );
  });

  it('refuses two resources: one audience per token', async () => {
    const response = await fetch(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: usersBasic() },
      body: 'grant_type=client_credentials&resource=orders&resource=events',
    });
    await expectOAuthError(response, 400, 'invalid_target');
  });

  it('refuses a JSON body with invalid_request', async () => {
    const response = await fetch(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: usersBasic() },
      body: JSON.stringify({ grant_type: 'client_credentials', audience: 'orders' }),
    });
    await expectOAuthError(response, 400, 'invalid_request');
  });

  it('refuses a text/plain body with invalid_request', async () => {
    const response = await fetch(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', authorization: usersBasic() },
      body: 'grant_type=client_credentials',
    });
    await expectOAuthError(response, 400, 'invalid_request');
  });

  it('refuses a form body over the size limit with an RFC 6749 error, before any handler', async () => {
    const response = await fetch(tokenUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: usersBasic(),
      },
      body: `grant_type=client_credentials&audience=orders&scope=${'x'.repeat(70_000)}`,
    });
    await expectOAuthError(response, 400, 'invalid_request');
  });

  it('answers an unexpected failure with server_error and nothing internal', async () => {
    const grant = auth.app.get(ClientCredentialsGrant);
    const handle = jest
      .spyOn(grant, 'handle')
      .mockRejectedValueOnce(new Error('secret internal detail'));
    try {
      const response = await postForm(
        tokenUrl,
        { grant_type: 'client_credentials', audience: 'orders' },
        usersBasic(),
      );
      const body = await expectOAuthError(response, 500, 'server_error');
      expect(JSON.stringify(body)).not.toContain('secret internal detail');
    } finally {
      handle.mockRestore();
    }
  });

  it('is described in the OpenAPI document although Nest does not route it', async () => {
    const document = (await (await fetch(`${auth.url}/docs/openapi.json`)).json()) as {
      paths: Record<string, { post?: { requestBody?: { content?: object } } }>;
    };
    expect(Object.keys(document.paths['/oauth/token'].post!.requestBody!.content!)).toEqual([
      'application/x-www-form-urlencoded',
    ]);
  });

  it('refuses a client that lacks the grant with unauthorized_client', async () => {
    const response = await postForm(
      tokenUrl,
      {
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        audience: 'orders',
        subject_token: 'x.y.z',
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      },
      usersBasic(),
    );
    await expectOAuthError(response, 400, 'unauthorized_client');
  });

  it('counts client authentication failures in /metrics', async () => {
    const before = await failures();
    await postForm(
      tokenUrl,
      { grant_type: 'client_credentials', audience: 'orders' },
      basic('users', 'wrong'),
    );
    expect(await failures()).toBe(before + 1);
  });
});

async function failures(): Promise<number> {
  const text = await (await fetch(`${auth.url}/metrics`)).text();
  const line = text
    .split('\n')
    .find(
      (entry) =>
        entry.startsWith('auth_security_events_total{') &&
        entry.includes('event="client_auth"') &&
        entry.includes('outcome="failure"'),
    );
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('metadata', () => {
  it('publishes RFC 8414 metadata naming the endpoints and methods', async () => {
    const response = await fetch(`${auth.url}/.well-known/oauth-authorization-server`);
    expect(response.status).toBe(200);
    const body = await response.json().then(asJson);
    expect(body).toMatchObject({
      issuer: auth.config.AUTH_ISSUER,
      token_endpoint: `${auth.config.AUTH_ISSUER}/oauth/token`,
      jwks_uri: `${auth.config.AUTH_ISSUER}/.well-known/jwks.json`,
      revocation_endpoint: `${auth.config.AUTH_ISSUER}/oauth/revoke`,
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'private_key_jwt'],
    });
    expect(body.grant_types_supported).toContain('urn:ietf:params:oauth:grant-type:token-exchange');
  });
});
