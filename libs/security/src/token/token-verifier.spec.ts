import { createHmac } from 'node:crypto';
import {
  exportSPKI,
  generateKeyPair,
  exportJWK,
  type CryptoKey,
  type JWK,
  type JWTVerifyGetKey,
} from 'jose';
import { ALLOWED_ALGORITHMS } from '../contract/access-token.claims';
import { SecurityError, type SecurityErrorCode } from '../security.error';
import { RevocationList } from './revocation-list';
import { TokenVerifier } from './token-verifier';
import { issuerKeys } from './issuer-keys';
import { retiredIssuerKeys } from './retired-keys';
import { at, T0, TestIssuer } from '../../../../test/security/support/test-issuer';

let issuer: TestIssuer;
let keyLookups: number;

function verifierFor(
  options: {
    keys?: JWTVerifyGetKey;
    revocations?: RevocationList;
    retiredKeys?: ReturnType<typeof retiredIssuerKeys>;
  } = {},
) {
  const local = options.keys ?? issuer.localKeys();
  const counting: JWTVerifyGetKey = (header, token) => {
    keyLookups += 1;
    return local(header, token);
  };
  return new TokenVerifier(
    {
      issuer: issuer.url,
      algorithms: ALLOWED_ALGORITHMS,
      clockToleranceSeconds: 30,
      cacheSize: 100,
    },
    counting,
    options.revocations ?? new RevocationList(() => T0),
    options.retiredKeys,
  );
}

async function rejection(promise: Promise<unknown>): Promise<SecurityError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SecurityError) return error;
    throw error;
  }
  throw new Error('expected the token to be rejected');
}

async function expectRejected(token: string, code: SecurityErrorCode, audience = 'users') {
  const error = await rejection(verifierFor().verify(token, { audience, currentDate: at(1) }));
  expect(error.code).toBe(code);
  return error;
}

beforeAll(async () => {
  issuer = await TestIssuer.create();
});

beforeEach(() => {
  keyLookups = 0;
});

describe('TokenVerifier', () => {
  describe('accepts', () => {
    it.each(['ES256', 'RS256', 'EdDSA'] as const)('a valid %s user token', async (alg) => {
      const token = await issuer.userToken({}, { alg });
      const { principal } = await verifierFor().verify(token, {
        audience: 'users',
        currentDate: at(1),
      });
      expect(principal).toMatchObject({ kind: 'user', roles: ['customer'], region: 'eu' });
    });

    it('typ application/at+jwt (RFC 9068 §4)', async () => {
      const token = await issuer.userToken({}, { header: { typ: 'application/at+jwt' } });
      await expect(
        verifierFor().verify(token, { audience: 'users', currentDate: at(1) }),
      ).resolves.toBeDefined();
    });
  });

  describe('algorithm allowlist (asymmetric only)', () => {
    it.each(['none', 'None', 'NONE', 'nOnE'])('rejects a token whose alg is %s', async (alg) => {
      const token = TestIssuer.raw(
        { alg, typ: 'at+jwt', kid: issuer.key().kid },
        issuer.userClaims(),
      );
      await expectRejected(token, 'TOKEN_ALG_NOT_ALLOWED');
      expect(keyLookups).toBe(0);
    });

    it('rejects alg none with an empty signature', async () => {
      const token = TestIssuer.raw({ alg: 'none', typ: 'at+jwt' }, issuer.userClaims(), '');
      await expectRejected(token, 'TOKEN_MALFORMED');
    });

    it.each(['pem', 'jwk'])(
      'rejects HS256 signed with the issuer public key (%s) as the HMAC secret',
      async (form) => {
        const key = issuer.key('RS256');
        const secret =
          form === 'pem' ? await exportSPKI(key.publicKey) : JSON.stringify(key.publicJwk);
        const header = Buffer.from(
          JSON.stringify({ alg: 'HS256', typ: 'at+jwt', kid: key.kid }),
        ).toString('base64url');
        const payload = Buffer.from(JSON.stringify(issuer.userClaims())).toString('base64url');
        const signature = createHmac('sha256', secret)
          .update(`${header}.${payload}`)
          .digest('base64url');
        await expectRejected(`${header}.${payload}.${signature}`, 'TOKEN_ALG_NOT_ALLOWED');
        expect(keyLookups).toBe(0);
      },
    );

    it('rejects an allowed alg whose signature was made with another algorithm key', async () => {
      // Header says RS256 but names the ES256 key: jose refuses the key/alg mismatch.
      const token = await issuer.userToken({}, { alg: 'ES256', kid: issuer.key('RS256').kid });
      const error = await rejection(
        verifierFor().verify(token, { audience: 'users', currentDate: at(1) }),
      );
      expect(['TOKEN_SIGNATURE_INVALID', 'TOKEN_KEY_NOT_FOUND']).toContain(error.code);
    });
  });

  describe('signature', () => {
    it('rejects a stripped signature', async () => {
      const token = await issuer.userToken();
      const [h, p] = token.split('.');
      await expectRejected(`${h}.${p}.`, 'TOKEN_MALFORMED');
      await expectRejected(`${h}.${p}`, 'TOKEN_MALFORMED');
    });

    it('rejects a truncated signature', async () => {
      const token = await issuer.userToken();
      await expectRejected(token.slice(0, -6), 'TOKEN_SIGNATURE_INVALID');
    });

    it('rejects a payload changed after signing', async () => {
      const token = await issuer.userToken();
      const [h, , s] = token.split('.');
      const forged = Buffer.from(JSON.stringify(issuer.userClaims({ roles: ['admin'] }))).toString(
        'base64url',
      );
      await expectRejected(`${h}.${forged}.${s}`, 'TOKEN_SIGNATURE_INVALID');
    });

    it('rejects a token signed by another key that reuses the issuer kid', async () => {
      const attacker = await generateKeyPair('ES256');
      const token = await issuer.userToken({}, { key: attacker.privateKey });
      await expectRejected(token, 'TOKEN_SIGNATURE_INVALID');
    });
  });

  describe('key-bearing and critical headers', () => {
    it('rejects an embedded jwk even when it verifies the signature', async () => {
      const attacker = await generateKeyPair('ES256', { extractable: true });
      const jwk = await exportJWK(attacker.publicKey);
      const token = await issuer.userToken({}, { key: attacker.privateKey, header: { jwk } });
      await expectRejected(token, 'TOKEN_HEADER_FORBIDDEN');
      expect(keyLookups).toBe(0);
    });

    it.each(['jku', 'x5u'])('rejects a %s header and never fetches it', async (name) => {
      const fetched: string[] = [];
      const spy = jest.spyOn(globalThis, 'fetch').mockImplementation(async (url) => {
        fetched.push(String(url));
        return new Response('{}');
      });
      try {
        const token = await issuer.userToken({}, { header: { [name]: 'https://evil.test/k' } });
        await expectRejected(token, 'TOKEN_HEADER_FORBIDDEN');
        expect(fetched).toEqual([]);
      } finally {
        spy.mockRestore();
      }
    });

    it('rejects an x5c header', async () => {
      const token = await issuer.userToken({}, { header: { x5c: ['MIIB'] } });
      await expectRejected(token, 'TOKEN_HEADER_FORBIDDEN');
    });

    it('rejects a crit header, even one jose understands (b64)', async () => {
      const token = await issuer.userToken({}, { header: { b64: true, crit: ['b64'] } });
      await expectRejected(token, 'TOKEN_HEADER_FORBIDDEN');
    });
  });

  describe('kid', () => {
    it.each([
      ['empty', ''],
      ['a path', '../../../../etc/passwd'],
      ['SQL', "' OR '1'='1"],
      ['a NUL byte', 'key\u0000'],
      ['too long', 'k'.repeat(129)],
      ['a number', 7],
      ['an object', { $ne: null }],
      ['null', null],
    ])('rejects a kid that is %s', async (_name, kid) => {
      const token = await issuer.userToken({}, { header: { kid } });
      await expectRejected(token, 'TOKEN_KID_INVALID');
      expect(keyLookups).toBe(0);
    });

    it('rejects a token without kid', async () => {
      const token = await issuer.userToken({}, { header: { kid: undefined } });
      await expectRejected(token, 'TOKEN_KID_INVALID');
    });

    it('rejects a well-formed kid the issuer does not have', async () => {
      await expectRejected(await issuer.userToken({}, { kid: 'unknown-1' }), 'TOKEN_KEY_NOT_FOUND');
    });
  });

  describe('typ (RFC 9068 §4)', () => {
    it.each([['JWT'], ['jwt'], ['application/jwt'], ['at+jwt '], [undefined], [1]])(
      'rejects typ %p',
      async (typ) => {
        const token = await issuer.userToken({}, { header: { typ } });
        await expectRejected(token, 'TOKEN_TYPE_INVALID');
      },
    );
  });

  describe('issuer and audience', () => {
    it('rejects another issuer', async () => {
      await expectRejected(
        await issuer.userToken({ iss: 'http://evil.test' }),
        'TOKEN_ISSUER_INVALID',
      );
    });

    it('rejects an issuer given as an array', async () => {
      await expectRejected(await issuer.userToken({ iss: [issuer.url] }), 'TOKEN_ISSUER_INVALID');
    });

    it('rejects a token for another audience', async () => {
      await expectRejected(await issuer.userToken({ aud: 'orders' }), 'TOKEN_AUDIENCE_INVALID');
    });

    it('rejects a token for another audience even when it is cached', async () => {
      const verifier = verifierFor();
      const token = await issuer.userToken({ aud: 'orders' });
      await verifier.verify(token, { audience: 'orders', currentDate: at(1) });
      const error = await rejection(
        verifier.verify(token, { audience: 'users', currentDate: at(1) }),
      );
      expect(error.code).toBe('TOKEN_AUDIENCE_INVALID');
    });
  });

  describe('time (tolerance 30 s)', () => {
    it('rejects a token expired more than the tolerance ago', async () => {
      const token = await issuer.userToken({ exp: T0 - 30 });
      await expectRejected(token, 'TOKEN_EXPIRED');
    });

    it('accepts a token expired within the tolerance', async () => {
      const token = await issuer.userToken({ exp: T0 - 28 });
      await expect(
        verifierFor().verify(token, { audience: 'users', currentDate: at(1) }),
      ).resolves.toBeDefined();
    });

    it('rejects a cached token once it expires', async () => {
      const verifier = verifierFor();
      const token = await issuer.userToken({ exp: T0 + 60 });
      await verifier.verify(token, { audience: 'users', currentDate: at(1) });
      const error = await rejection(
        verifier.verify(token, { audience: 'users', currentDate: at(91) }),
      );
      expect(error.code).toBe('TOKEN_EXPIRED');
      expect(keyLookups).toBe(1);
    });

    it('rejects a token not valid before a time beyond the tolerance', async () => {
      await expectRejected(await issuer.userToken({ nbf: T0 + 60 }), 'TOKEN_NOT_YET_VALID');
    });

    it('rejects a cached token used before its nbf', async () => {
      const verifier = verifierFor();
      const token = await issuer.userToken({ nbf: T0 });
      await verifier.verify(token, { audience: 'users', currentDate: at(1) });
      const error = await rejection(
        verifier.verify(token, { audience: 'users', currentDate: at(-60) }),
      );
      expect(error.code).toBe('TOKEN_NOT_YET_VALID');
    });

    it.each([
      ['a user', 900, true],
      ['a user', 901, false],
      ['a service', 901, false],
    ])(
      'accepts %s token living %i s only up to the longest lifetime (15 min)',
      async (_who, lifetime, ok) => {
        const token =
          _who === 'a user'
            ? await issuer.userToken({ iat: T0, exp: T0 + lifetime })
            : await issuer.serviceToken('orders', 'users', 'users:read', {
                iat: T0,
                exp: T0 + lifetime,
              });
        const result = verifierFor()
          .verify(token, { audience: 'users', currentDate: at(1) })
          .then(
            () => 'accepted',
            (error: SecurityError) => error.code,
          );
        expect(await result).toBe(ok ? 'accepted' : 'TOKEN_CLAIM_INVALID');
      },
    );

    it('rejects a token issued in the future', async () => {
      const verifier = verifierFor();
      const token = await issuer.userToken({ iat: T0 + 120, exp: T0 + 900 });
      const error = await rejection(
        verifier.verify(token, { audience: 'users', currentDate: at(1) }),
      );
      expect(error.code).toBe('TOKEN_NOT_YET_VALID');
    });
  });

  describe('claim types', () => {
    it.each([
      ['sub a number', { sub: 42 }],
      ['sub an array', { sub: ['a'] }],
      ['sub empty', { sub: '' }],
      ['jti missing', { jti: undefined }],
      ['jti a number', { jti: 1 }],
      ['client_id missing', { client_id: undefined }],
      ['scope an array', { scope: ['a'] }],
      ['roles with an unknown role', { roles: ['root'] }],
      ['roles a string', { roles: 'admin' }],
      ['act a string', { act: 'orders' }],
      ['act without sub', { act: {} }],
      ['auth_time a string', { auth_time: 'yesterday' }],
      ['amr a string', { amr: 'pwd' }],
      ['aud a number', { aud: 5 }],
      ['aud an empty array', { aud: [] }],
      ['region an object', { region: { $ne: 1 } }],
    ])('rejects a token whose %s', async (_name, overrides) => {
      const error = await rejection(
        verifierFor().verify(await issuer.userToken(overrides), {
          audience: 'users',
          currentDate: at(1),
        }),
      );
      expect(['TOKEN_CLAIM_INVALID', 'TOKEN_AUDIENCE_INVALID']).toContain(error.code);
    });

    it('rejects exp given as a string', async () => {
      const error = await rejection(
        verifierFor().verify(await issuer.userToken({ exp: String(T0 + 900) }), {
          audience: 'users',
          currentDate: at(1),
        }),
      );
      expect(error.code).toBe('TOKEN_CLAIM_INVALID');
    });

    it('rejects iss given as a number', async () => {
      const error = await rejection(
        verifierFor().verify(await issuer.userToken({ iss: 1 }), {
          audience: 'users',
          currentDate: at(1),
        }),
      );
      expect(error.code).toBe('TOKEN_ISSUER_INVALID');
    });

    it('rejects a service token whose sub is not its client', async () => {
      const token = await issuer.serviceToken('orders', 'users', 'users:read', { sub: 'someone' });
      await expectRejected(token, 'TOKEN_CLAIM_INVALID');
    });
  });

  describe('malformed and oversized', () => {
    it.each([
      ['not a JWT', 'hello'],
      ['four segments', 'a.b.c.d'],
      ['a JWE (five segments)', 'a.b.c.d.e'],
      ['a non-JSON header', 'bm90IGpzb24.e30.c2ln'],
      ['a header that is an array', TestIssuer.raw([], {})],
      [
        'a payload that is not JSON',
        `${Buffer.from('{"alg":"ES256"}').toString('base64url')}.bm9wZQ.c2ln`,
      ],
      ['non-base64url characters', 'a+b.c/d.e=f'],
      ['whitespace', 'a .b.c'],
    ])('rejects %s', async (_name, token) => {
      await expectRejected(token, 'TOKEN_MALFORMED');
    });

    it('rejects an oversized token before parsing it', async () => {
      const token = await issuer.userToken({ pad: 'x'.repeat(9000) });
      await expectRejected(token, 'TOKEN_TOO_LARGE');
      expect(keyLookups).toBe(0);
    });

    it('rejects an empty token', async () => {
      await expectRejected('', 'TOKEN_MISSING');
    });
  });

  describe('principal', () => {
    it('makes a service principal of a client-credentials token', async () => {
      const token = await issuer.serviceToken('orders', 'users', 'users:read');
      const { principal } = await verifierFor().verify(token, {
        audience: 'users',
        currentDate: at(1),
      });
      expect(principal).toMatchObject({
        kind: 'service',
        clientId: 'orders',
        scopes: ['users:read'],
      });
    });

    it('makes a delegated principal of an exchanged token', async () => {
      const token = await issuer.userToken({
        aud: 'users',
        client_id: 'orders',
        act: { sub: 'orders' },
      });
      const { principal } = await verifierFor().verify(token, {
        audience: 'users',
        currentDate: at(1),
      });
      expect(principal).toMatchObject({ kind: 'delegated', actor: { clientId: 'orders' } });
    });
  });

  describe('verification cache', () => {
    it('verifies a reused token once', async () => {
      const verifier = verifierFor();
      const token = await issuer.userToken();
      for (let i = 0; i < 5; i++)
        await verifier.verify(token, { audience: 'users', currentDate: at(1) });
      expect(keyLookups).toBe(1);
      expect(verifier.cacheSize).toBe(1);
    });

    it('checks the deny-list on a cache hit', async () => {
      const revocations = new RevocationList(() => T0);
      const verifier = verifierFor({ revocations });
      const token = await issuer.userToken();
      const { claims } = await verifier.verify(token, { audience: 'users', currentDate: at(1) });
      revocations.add({ type: 'jti', jti: claims.jti, exp: claims.exp, at: T0 + 1 });
      const error = await rejection(
        verifier.verify(token, { audience: 'users', currentDate: at(2) }),
      );
      expect(error.code).toBe('TOKEN_REVOKED');
    });

    it('answers from the cache only the very token it verified, not one that keeps its signature', async () => {
      const verifier = verifierFor();
      const token = await issuer.userToken();
      await verifier.verify(token, { audience: 'users', currentDate: at(1) });
      const [header, payload, signature] = token.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
      const elevated = Buffer.from(JSON.stringify({ ...claims, roles: ['admin'] })).toString(
        'base64url',
      );
      const altered = `${header}.${elevated}.${signature}`;
      expect(verifier.verifyCached(altered, { audience: 'users', currentDate: at(1) })).toBe(
        undefined,
      );
      const error = await rejection(
        verifier.verify(altered, { audience: 'users', currentDate: at(1) }),
      );
      expect(error.code).toBe('TOKEN_SIGNATURE_INVALID');
      expect(keyLookups).toBe(2);
    });

    it('does not cache a token that failed verification', async () => {
      const verifier = verifierFor();
      const token = await issuer.userToken({ aud: 'orders' });
      await rejection(verifier.verify(token, { audience: 'users', currentDate: at(1) }));
      const forged = (await issuer.userToken()).slice(0, -4);
      await rejection(verifier.verify(forged, { audience: 'users', currentDate: at(1) }));
      expect(verifier.cacheSize).toBe(1);
    });
  });

  describe('JWKS', () => {
    it('refetches the JWKS for an unknown kid at most once per cooldown', async () => {
      let fetches = 0;
      const fetchJwks = (async () => {
        fetches += 1;
        return new Response(JSON.stringify(issuer.jwks()), {
          headers: { 'content-type': 'application/json' },
        });
      }) as unknown as typeof fetch;
      const keys = issuerKeys({
        jwksUri: 'https://issuer.test/.well-known/jwks.json',
        cooldownMs: 200,
        maxAgeMs: 600_000,
        timeoutMs: 1000,
        fetch: fetchJwks,
      });
      const verifier = verifierFor({ keys });
      const verify = async (kid?: string) =>
        verifier
          .verify(await issuer.userToken({}, kid ? { kid } : {}), {
            audience: 'users',
            currentDate: at(1),
          })
          .catch((error: SecurityError) => error.code);
      await verify();
      expect(fetches).toBe(1);
      expect(await verify('unknown-a')).toBe('TOKEN_KEY_NOT_FOUND');
      expect(await verify('unknown-b')).toBe('TOKEN_KEY_NOT_FOUND');
      expect(await verify('unknown-c')).toBe('TOKEN_KEY_NOT_FOUND');
      expect(fetches).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 250));
      expect(await verify('unknown-d')).toBe('TOKEN_KEY_NOT_FOUND');
      expect(await verify('unknown-e')).toBe('TOKEN_KEY_NOT_FOUND');
      expect(fetches).toBe(2);
    });

    /** A JWKS endpoint that answers `script`'s next entry (the last one repeats) and counts. */
    function scriptedJwks(...script: ('keys' | 'down')[]) {
      const endpoint = { fetches: 0, fetch: undefined as unknown as typeof fetch };
      endpoint.fetch = (async () => {
        const answer = script[Math.min(endpoint.fetches, script.length - 1)];
        endpoint.fetches += 1;
        return answer === 'keys'
          ? new Response(JSON.stringify(issuer.jwks()), {
              headers: { 'content-type': 'application/json' },
            })
          : new Response('upstream restarting', { status: 503 });
      }) as unknown as typeof fetch;
      return endpoint;
    }
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const verifyWith = (verifier: TokenVerifier) => async (kid?: string) =>
      verifier
        .verify(await issuer.userToken({}, kid ? { kid } : {}), {
          audience: 'users',
          currentDate: at(1),
        })
        .then(
          () => 'VERIFIED',
          (error: SecurityError) => error.code,
        );

    it('fetches a failing JWKS at most once per cooldown, however many tokens (random kids) arrive', async () => {
      const endpoint = scriptedJwks('down', 'keys');
      const verify = verifyWith(
        verifierFor({
          keys: issuerKeys({
            jwksUri: 'https://issuer.test/.well-known/jwks.json',
            cooldownMs: 1000,
            maxAgeMs: 600_000,
            timeoutMs: 1000,
            fetch: endpoint.fetch,
          }),
        }),
      );
      const codes = await Promise.all(
        Array.from({ length: 10 }, (_, i) => verify(i % 2 ? `random-${i}` : undefined)),
      );
      for (let i = 0; i < 10; i++) codes.push(await verify(`random-later-${i}`));
      expect(new Set(codes)).toEqual(new Set(['JWKS_UNAVAILABLE']));
      expect(endpoint.fetches).toBe(1);
      // The issuer is back: the first token after the cooldown fetches once, and verifies.
      await sleep(1050);
      expect(await verify()).toBe('VERIFIED');
      expect(await verify('random-after')).toBe('TOKEN_KEY_NOT_FOUND');
      expect(endpoint.fetches).toBe(2);
    });

    it('keeps verifying with the last set while refetches fail, up to maxStaleMs, fetching once per cooldown', async () => {
      const endpoint = scriptedJwks('keys', 'down');
      const verify = verifyWith(
        verifierFor({
          keys: issuerKeys({
            jwksUri: 'https://issuer.test/.well-known/jwks.json',
            cooldownMs: 300,
            maxAgeMs: 50,
            maxStaleMs: 700,
            timeoutMs: 1000,
            fetch: endpoint.fetch,
          }),
        }),
      );
      expect(await verify()).toBe('VERIFIED');
      expect(endpoint.fetches).toBe(1);
      await sleep(350); // stale, and past the cooldown: one refetch, which fails
      expect(await verify()).toBe('VERIFIED');
      expect(await verify()).toBe('VERIFIED');
      expect(await verify('random-1')).toBe('TOKEN_KEY_NOT_FOUND');
      expect(endpoint.fetches).toBe(2);
      await sleep(450); // the set is older than maxAgeMs + maxStaleMs
      expect(await verify()).toBe('JWKS_UNAVAILABLE');
      expect(endpoint.fetches).toBe(3);
    });

    it('reports an unreachable JWKS as unavailable, not as a bad token', async () => {
      const keys = issuerKeys({
        jwksUri: 'https://issuer.test/.well-known/jwks.json',
        cooldownMs: 200,
        maxAgeMs: 600_000,
        timeoutMs: 1000,
        fetch: (async () => {
          throw new TypeError('fetch failed');
        }) as unknown as typeof fetch,
      });
      const error = await rejection(
        verifierFor({ keys }).verify(await issuer.userToken(), {
          audience: 'users',
          currentDate: at(1),
        }),
      );
      expect(error.code).toBe('JWKS_UNAVAILABLE');
    });

    it.each([
      ['answers 503', () => new Response('upstream restarting', { status: 503 })],
      ['answers with something other than JSON', () => new Response('<html>', { status: 200 })],
    ])('reports a JWKS that %s as unavailable, not as a bad token', async (_case, answer) => {
      const keys = issuerKeys({
        jwksUri: 'https://issuer.test/.well-known/jwks.json',
        cooldownMs: 200,
        maxAgeMs: 600_000,
        timeoutMs: 1000,
        fetch: (async () => answer()) as unknown as typeof fetch,
      });
      const error = await rejection(
        verifierFor({ keys }).verify(await issuer.userToken(), {
          audience: 'users',
          currentDate: at(1),
        }),
      );
      expect(error.code).toBe('JWKS_UNAVAILABLE');
    });
  });

  describe('retired keys (a NATS message stored before a rotation)', () => {
    // A key that signed from 3 h ago until 1 h ago, listed only in the retired key set.
    const SIGNED_FROM = T0 - 3 * 3600;
    const RETIRED_AT = T0 - 3600;
    let retired: { kid: string; privateKey: CryptoKey; jwk: JWK };
    let retiredFetches: number;

    beforeAll(async () => {
      const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
      const kid = 'es256-retired';
      retired = { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256' } };
    });
    beforeEach(() => {
      retiredFetches = 0;
    });

    /** The retired set as auth serves it: each key with its signing period as iat and exp. */
    function retiredSet(period: Record<string, unknown> = { iat: SIGNED_FROM, exp: RETIRED_AT }) {
      return retiredIssuerKeys({
        jwksUri: 'https://issuer.test/.well-known/retired-jwks.json',
        cooldownMs: 1000,
        maxAgeMs: 600_000,
        timeoutMs: 1000,
        fetch: (async () => {
          retiredFetches += 1;
          return new Response(JSON.stringify({ keys: [{ ...retired.jwk, ...period }] }), {
            headers: { 'content-type': 'application/json' },
          });
        }) as unknown as typeof fetch,
      });
    }

    /** An events token the retired key signed at `iat`, and the message's stored time. */
    async function eventToken(iat: number, lifetime = 300) {
      const token = await issuer.sign(
        issuer.serviceClaims('orders', 'events', 'events:publish', { iat, exp: iat + lifetime }),
        { kid: retired.kid, key: retired.privateKey },
      );
      return { token, storedAt: new Date((iat + 10) * 1000) };
    }

    const verifyStored = (
      verifier: TokenVerifier,
      { token, storedAt }: { token: string; storedAt: Date },
    ) =>
      verifier.verify(token, {
        audience: 'events',
        currentDate: storedAt,
        allowRetiredKeys: true,
      });

    it('verifies a message whose token the key signed while it was signing', async () => {
      const stored = await eventToken(RETIRED_AT - 60);
      const { principal } = await verifyStored(verifierFor({ retiredKeys: retiredSet() }), stored);
      expect(principal).toMatchObject({ kind: 'service', clientId: 'orders' });
      expect(retiredFetches).toBe(1);
    });

    it('is never consulted for a live request (no allowRetiredKeys)', async () => {
      const { token, storedAt } = await eventToken(RETIRED_AT - 60);
      const error = await rejection(
        verifierFor({ retiredKeys: retiredSet() }).verify(token, {
          audience: 'events',
          currentDate: storedAt,
        }),
      );
      expect(error.code).toBe('TOKEN_KEY_NOT_FOUND');
      expect(retiredFetches).toBe(0);
    });

    it('does not cache a token only a retired key verifies, even one still valid now', async () => {
      // Retired a minute ago: its last tokens are still valid, and a cache entry would let a
      // live request (no allowRetiredKeys) be answered from the stored message's decision.
      const verifier = verifierFor({ retiredKeys: retiredSet({ iat: T0 - 3600, exp: T0 - 60 }) });
      const stored = await eventToken(T0 - 120);
      await verifyStored(verifier, stored);
      expect(verifier.cacheSize).toBe(0);
      const error = await rejection(
        verifier.verify(stored.token, { audience: 'events', currentDate: at(0) }),
      );
      expect(error.code).toBe('TOKEN_KEY_NOT_FOUND');
    });

    it.each([
      ['after the key was retired (a leaked retired key)', RETIRED_AT + 31],
      ['before the key started signing', SIGNED_FROM - 31],
    ])('rejects a token issued %s', async (_case, iat) => {
      const error = await rejection(
        verifyStored(verifierFor({ retiredKeys: retiredSet() }), await eventToken(iat)),
      );
      expect(error.code).toBe('TOKEN_KEY_NOT_FOUND');
    });

    it('accepts iat within the clock tolerance of the signing period', async () => {
      const verifier = verifierFor({ retiredKeys: retiredSet() });
      await expect(
        verifyStored(verifier, await eventToken(RETIRED_AT + 29)),
      ).resolves.toBeDefined();
      await expect(
        verifyStored(verifier, await eventToken(SIGNED_FROM - 29)),
      ).resolves.toBeDefined();
    });

    it('rejects a token living longer than any token of the issuer (back-dated by a leaked key)', async () => {
      const error = await rejection(
        verifyStored(
          verifierFor({ retiredKeys: retiredSet() }),
          await eventToken(RETIRED_AT, 7200),
        ),
      );
      expect(error.code).toBe('TOKEN_CLAIM_INVALID');
    });

    it('rejects a token stored after it expired', async () => {
      const { token } = await eventToken(RETIRED_AT - 600);
      const error = await rejection(
        verifyStored(verifierFor({ retiredKeys: retiredSet() }), {
          token,
          storedAt: new Date((RETIRED_AT - 600 + 300 + 31) * 1000),
        }),
      );
      expect(error.code).toBe('TOKEN_EXPIRED');
    });

    it.each([
      ['without a signing period', {}],
      ['with exp before iat', { iat: RETIRED_AT, exp: SIGNED_FROM }],
      [
        'with a signing period given as text',
        { iat: String(SIGNED_FROM), exp: String(RETIRED_AT) },
      ],
    ])('lets a retired key listed %s verify nothing', async (_case, period) => {
      const error = await rejection(
        verifyStored(
          verifierFor({ retiredKeys: retiredSet(period) }),
          await eventToken(RETIRED_AT - 60),
        ),
      );
      expect(error.code).toBe('TOKEN_KEY_NOT_FOUND');
    });

    it('rejects a token another key signed under a retired kid', async () => {
      const token = await issuer.sign(
        issuer.serviceClaims('orders', 'events', 'events:publish', {
          iat: RETIRED_AT - 60,
          exp: RETIRED_AT + 240,
        }),
        { kid: retired.kid },
      );
      const error = await rejection(
        verifyStored(verifierFor({ retiredKeys: retiredSet() }), {
          token,
          storedAt: new Date((RETIRED_AT - 50) * 1000),
        }),
      );
      expect(error.code).toBe('TOKEN_SIGNATURE_INVALID');
    });

    it('without a retired key set, a retired key verifies nothing', async () => {
      const error = await rejection(verifyStored(verifierFor(), await eventToken(RETIRED_AT - 60)));
      expect(error.code).toBe('TOKEN_KEY_NOT_FOUND');
    });
  });
});
