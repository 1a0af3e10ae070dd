import { SecurityError } from '../security.error';
import { ServiceTokenClient } from './service-token.client';

interface Call {
  authorization: string;
  form: Record<string, string>;
}

function fakeEndpoint(options: { delayMs?: number; status?: number; body?: unknown } = {}) {
  const calls: Call[] = [];
  let issued = 0;
  const fakeFetch = (async (_url: string, init: RequestInit) => {
    calls.push({
      authorization: String((init.headers as Record<string, string>).authorization),
      form: Object.fromEntries(new URLSearchParams(String(init.body))),
    });
    if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
    const body = options.body ?? {
      access_token: `token-${++issued}`,
      token_type: 'Bearer',
      expires_in: 300,
    };
    return new Response(JSON.stringify(body), { status: options.status ?? 200 });
  }) as unknown as typeof fetch;
  return { calls, fetch: fakeFetch };
}

function clientWith(endpoint: ReturnType<typeof fakeEndpoint>, clock = { now: 1_000_000 }) {
  return new ServiceTokenClient({
    tokenEndpoint: 'https://auth.test/oauth/token',
    client: { id: 'orders', secret: 's3cret:+/' },
    fetch: endpoint.fetch,
    now: () => clock.now,
  });
}

describe('ServiceTokenClient', () => {
  it('authenticates with client_secret_basic, form-encoding id and secret (RFC 6749 §2.3.1)', async () => {
    const endpoint = fakeEndpoint();
    await clientWith(endpoint).getToken('users', 'users:read');
    expect(endpoint.calls[0].authorization).toBe(
      `Basic ${Buffer.from('orders:s3cret%3A%2B%2F').toString('base64')}`,
    );
    expect(endpoint.calls[0].form).toEqual({
      grant_type: 'client_credentials',
      audience: 'users',
      scope: 'users:read',
    });
  });

  it('caches a token per audience', async () => {
    const endpoint = fakeEndpoint();
    const client = clientWith(endpoint);
    expect(await client.getToken('users')).toBe('token-1');
    expect(await client.getToken('users')).toBe('token-1');
    expect(await client.getToken('orders')).toBe('token-2');
    expect(endpoint.calls).toHaveLength(2);
  });

  it('shares one in-flight request between concurrent callers', async () => {
    const endpoint = fakeEndpoint({ delayMs: 20 });
    const client = clientWith(endpoint);
    const tokens = await Promise.all(Array.from({ length: 10 }, () => client.getToken('users')));
    expect(new Set(tokens)).toEqual(new Set(['token-1']));
    expect(endpoint.calls).toHaveLength(1);
  });

  it('refreshes a token before it expires', async () => {
    const endpoint = fakeEndpoint();
    const clock = { now: 1_000_000 };
    const client = clientWith(endpoint, clock);
    await client.getToken('users');
    clock.now += 239_000; // 61 s before expiry: still good
    expect(await client.getToken('users')).toBe('token-1');
    expect(endpoint.calls).toHaveLength(1);
    clock.now += 2_000; // 59 s before expiry: refreshed in the background, the call goes on
    expect(await client.getToken('users')).toBe('token-1');
    expect(endpoint.calls).toHaveLength(2);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await client.getToken('users')).toBe('token-2');
    expect(endpoint.calls).toHaveLength(2);
  });

  it('goes on with a still-valid token while its refresh fails, and not a moment past its expiry', async () => {
    let down = false;
    let attempts = 0;
    const endpoint = fakeEndpoint();
    const fetchOrFail = (async (...args: Parameters<typeof fetch>) => {
      attempts += 1;
      if (down) throw new TypeError('fetch failed');
      return endpoint.fetch(...args);
    }) as typeof fetch;
    const clock = { now: 1_000_000 }; // the token expires at 1_300_000
    const client = new ServiceTokenClient({
      tokenEndpoint: 'https://auth.test/oauth/token',
      client: { id: 'orders', secret: 's3cret' },
      fetch: fetchOrFail,
      now: () => clock.now,
    });
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    expect(await client.getToken('users')).toBe('token-1');
    down = true;
    clock.now = 1_250_000; // 50 s before expiry: a refresh starts, and fails
    expect(await client.getToken('users')).toBe('token-1');
    await settle();
    expect(attempts).toBe(2);
    clock.now = 1_250_500; // a failed refresh is not tried again at once...
    expect(await client.getToken('users')).toBe('token-1');
    await settle();
    expect(attempts).toBe(2);
    clock.now = 1_251_500; // ...but a second later
    expect(await client.getToken('users')).toBe('token-1');
    await settle();
    expect(attempts).toBe(3);
    clock.now = 1_299_999; // the last millisecond of the token
    expect(await client.getToken('users')).toBe('token-1');
    await settle();
    clock.now = 1_300_000; // expired: the call waits for a token, and there is none
    await expect(client.getToken('users')).rejects.toMatchObject({ code: 'TOKEN_REQUEST_FAILED' });
    down = false;
    expect(await client.getToken('users')).toBe('token-2');
  });

  it('fetches one new token for a burst of calls refused together, not one per call', async () => {
    const endpoint = fakeEndpoint({ delayMs: 5 });
    const client = clientWith(endpoint);
    await client.getToken('users');
    const refusedOnce = new Set<string>();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        client.withToken('users', async (token) => {
          // Each call's first answer is a 401 for the revoked token-1, arriving a few ms apart.
          if (token === 'token-1' && !refusedOnce.has(String(i))) {
            refusedOnce.add(String(i));
            await new Promise((resolve) => setTimeout(resolve, i));
            throw { status: 401 };
          }
          return token;
        }),
      ),
    );
    expect(new Set(results)).toEqual(new Set(['token-2']));
    expect(endpoint.calls).toHaveLength(2);
  });

  it('retries once with a fresh token when the callee answers UNAUTHENTICATED', async () => {
    const endpoint = fakeEndpoint();
    const client = clientWith(endpoint);
    const seen: string[] = [];
    const result = await client.withToken('users', async (token) => {
      seen.push(token);
      if (seen.length === 1) throw { code: 16, message: 'UNAUTHENTICATED' };
      return 'ok';
    });
    expect(result).toBe('ok');
    expect(seen).toEqual(['token-1', 'token-2']);
  });

  it('retries only once', async () => {
    const endpoint = fakeEndpoint();
    const client = clientWith(endpoint);
    let attempts = 0;
    await expect(
      client.withToken('users', async () => {
        attempts += 1;
        throw { status: 401 };
      }),
    ).rejects.toEqual({ status: 401 });
    expect(attempts).toBe(2);
  });

  it('does not retry other errors', async () => {
    const client = clientWith(fakeEndpoint());
    let attempts = 0;
    await expect(
      client.withToken('users', async () => {
        attempts += 1;
        throw { code: 7 };
      }),
    ).rejects.toEqual({ code: 7 });
    expect(attempts).toBe(1);
  });

  it('exchanges a user token for another audience (RFC 8693) and caches it per subject token', async () => {
    const endpoint = fakeEndpoint();
    const client = clientWith(endpoint);
    expect(await client.exchange('user-token-a', 'users')).toBe('token-1');
    expect(await client.exchange('user-token-a', 'users')).toBe('token-1');
    expect(await client.exchange('user-token-b', 'users')).toBe('token-2');
    expect(endpoint.calls[0].form).toEqual({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: 'user-token-a',
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      audience: 'users',
    });
  });

  it('reports a refused token request with its RFC 6749 error code', async () => {
    const client = clientWith(fakeEndpoint({ status: 401, body: { error: 'invalid_client' } }));
    const error = (await client.getToken('users').catch((e: unknown) => e)) as SecurityError;
    expect(error).toBeInstanceOf(SecurityError);
    expect(error.code).toBe('TOKEN_REQUEST_FAILED');
    expect(error.message).toBe('token request refused: invalid_client');
  });

  it.each([
    [{ access_token: 'x', token_type: 'mac', expires_in: 300 }],
    [{ access_token: '', token_type: 'Bearer', expires_in: 300 }],
    [{ access_token: 'x', token_type: 'Bearer', expires_in: '300' }],
  ])('refuses a malformed token response %p', async (body) => {
    const client = clientWith(fakeEndpoint({ body }));
    await expect(client.getToken('users')).rejects.toMatchObject({ code: 'TOKEN_REQUEST_FAILED' });
  });

  it('does not cache a failed request', async () => {
    const endpoint = fakeEndpoint({ status: 500, body: {} });
    const client = clientWith(endpoint);
    await expect(client.getToken('users')).rejects.toBeInstanceOf(SecurityError);
    await expect(client.getToken('users')).rejects.toBeInstanceOf(SecurityError);
    expect(endpoint.calls).toHaveLength(2);
  });
});
