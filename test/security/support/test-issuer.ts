import {
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Token tests freeze the clock here (a whole second, close to real time so caches keep entries). */
export const T0 = Math.floor(Date.now() / 1000);
export const at = (secondsAfterT0: number) => new Date((T0 + secondsAfterT0) * 1000);

export type TestAlg = 'ES256' | 'RS256' | 'EdDSA';

interface SigningKey {
  kid: string;
  alg: TestAlg;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

export interface SignOptions {
  alg?: TestAlg;
  kid?: string;
  header?: Record<string, unknown>;
  /** Sign with this key instead of the issuer's (an attacker's key). */
  key?: CryptoKey;
}

export interface RetiredTestKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A stand-in for apps/auth: keys, JWKS, signed access tokens and a tiny token endpoint. */
export class TestIssuer {
  readonly keys = new Map<TestAlg, SigningKey>();
  jwksRequests = 0;
  tokenRequests: Record<string, string>[] = [];
  /** Next token endpoint answers; default: issue a token. */
  tokenEndpointDelayMs = 0;
  /** Claims overriding the next client-credentials tokens, one entry per token (e.g. a wrong aud). */
  nextServiceTokenOverrides: Record<string, unknown>[] = [];
  /** Keys served at `/.well-known/retired-jwks.json`, each with its signing period (iat, exp). */
  readonly retiredKeys: RetiredTestKey[] = [];
  private server: Server | null = null;
  url = 'http://issuer.test';

  static async create(): Promise<TestIssuer> {
    const issuer = new TestIssuer();
    for (const alg of ['ES256', 'RS256', 'EdDSA'] as const) {
      const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
      const kid = `${alg.toLowerCase()}-${randomUUID().slice(0, 8)}`;
      const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
      issuer.keys.set(alg, { kid, alg, privateKey, publicKey, publicJwk });
    }
    return issuer;
  }

  key(alg: TestAlg = 'ES256'): SigningKey {
    return this.keys.get(alg)!;
  }

  jwks(): JSONWebKeySet {
    return { keys: [...this.keys.values()].map((key) => key.publicJwk) };
  }

  /** A new ES256 key that signed from `activatedAt` to `retiredAt` (seconds), listed only as retired. */
  async addRetiredKey(activatedAt: number, retiredAt: number): Promise<RetiredTestKey> {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const kid = `retired-${randomUUID().slice(0, 8)}`;
    const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
    const key = { kid, privateKey, publicKey, jwk: { ...jwk, iat: activatedAt, exp: retiredAt } };
    this.retiredKeys.push(key);
    return key;
  }

  localKeys(): JWTVerifyGetKey {
    return createLocalJWKSet(this.jwks());
  }

  userClaims(overrides: Record<string, unknown> = {}): JWTPayload {
    return {
      iss: this.url,
      sub: randomUUID(),
      aud: ['users', 'orders'],
      iat: T0,
      exp: T0 + 900,
      jti: randomUUID(),
      client_id: 'web',
      scope: 'openid',
      roles: ['customer'],
      region: 'eu',
      sid: randomUUID(),
      auth_time: T0,
      amr: ['pwd'],
      ...overrides,
    };
  }

  serviceClaims(clientId: string, audience: string, scope: string, overrides = {}): JWTPayload {
    return {
      iss: this.url,
      sub: clientId,
      aud: audience,
      iat: T0,
      exp: T0 + 300,
      jti: randomUUID(),
      client_id: clientId,
      scope,
      ...overrides,
    };
  }

  async sign(claims: JWTPayload, options: SignOptions = {}): Promise<string> {
    const key = this.key(options.alg);
    return new SignJWT(claims)
      .setProtectedHeader({
        alg: key.alg,
        typ: 'at+jwt',
        kid: options.kid ?? key.kid,
        ...options.header,
      } as never)
      .sign(options.key ?? key.privateKey);
  }

  userToken(overrides: Record<string, unknown> = {}, options?: SignOptions) {
    return this.sign(this.userClaims(overrides), options);
  }

  serviceToken(clientId: string, audience: string, scope: string, overrides = {}) {
    return this.sign(this.serviceClaims(clientId, audience, scope, overrides));
  }

  /** A compact token with any header and payload and a given signature segment. */
  static raw(header: unknown, payload: unknown, signature = 'c2lnbmF0dXJl'): string {
    return `${b64(header)}.${b64(payload)}.${signature}`;
  }

  /**
   * Serves `/.well-known/jwks.json` and a client-credentials / token-exchange `/oauth/token`
   * (client_secret_basic, any client whose secret is `secret-<id>`).
   */
  async listen(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server!.close(resolve));
    this.server = null;
  }

  private async handle(req: IncomingMessage, res: import('node:http').ServerResponse) {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && req.url === '/.well-known/jwks.json') {
      this.jwksRequests += 1;
      return send(200, this.jwks());
    }
    if (req.method === 'GET' && req.url === '/.well-known/retired-jwks.json') {
      return send(200, { keys: this.retiredKeys.map((key) => key.jwk) });
    }
    if (req.method === 'POST' && req.url === '/oauth/token') {
      let body = '';
      for await (const chunk of req) body += chunk;
      const form = Object.fromEntries(new URLSearchParams(body));
      this.tokenRequests.push(form);
      const [id, secret] = Buffer.from(
        (req.headers.authorization ?? '').replace(/^Basic /, ''),
        'base64',
      )
        .toString()
        .split(':')
        .map(decodeURIComponent);
      if (secret !== `secret-${id}`) return send(401, { error: 'invalid_client' });
      if (this.tokenEndpointDelayMs) {
        await new Promise((resolve) => setTimeout(resolve, this.tokenEndpointDelayMs));
      }
      const audience = form.audience ?? form.resource;
      if (form.grant_type === 'client_credentials') {
        const token = await this.serviceToken(
          id,
          audience,
          form.scope ?? '',
          this.nextServiceTokenOverrides.shift() ?? {},
        );
        return send(200, { access_token: token, token_type: 'Bearer', expires_in: 300 });
      }
      if (form.grant_type === 'urn:ietf:params:oauth:grant-type:token-exchange') {
        const [, payload] = form.subject_token.split('.');
        const user = JSON.parse(Buffer.from(payload, 'base64url').toString());
        const token = await this.sign(
          this.userClaims({
            sub: user.sub,
            roles: user.roles,
            region: user.region,
            aud: audience,
            client_id: id,
            act: { sub: id },
          }),
        );
        return send(200, {
          access_token: token,
          issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
          token_type: 'Bearer',
          expires_in: 300,
        });
      }
      return send(400, { error: 'unsupported_grant_type' });
    }
    send(404, { error: 'not_found' });
  }
}
