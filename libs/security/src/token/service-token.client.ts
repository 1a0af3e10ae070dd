import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { SecurityError } from '../security.error';

export interface ServiceTokenClientOptions {
  /** `${issuer}/oauth/token` */
  tokenEndpoint: string;
  client?: { id: string; secret: string };
  /** Refresh a token this long before it expires (seconds). Default 60, at most half its lifetime. */
  refreshBeforeSeconds?: number;
  /** Per-request timeout (ms). Default 5000. */
  timeoutMs?: number;
  /** Test seam. */
  fetch?: typeof fetch;
  now?: () => number;
}

interface CachedToken {
  token: string;
  /** ms since the epoch, when it should be replaced. */
  refreshAt: number;
  expiresAt: number;
  /** ms since the epoch: a background refresh failed, and is not tried again before this. */
  refreshRetryAt?: number;
}

/** A failed background refresh is not tried again sooner than this (ms). */
const REFRESH_RETRY_MS = 1000;
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** RFC 6749 §2.3.1: id and secret are form-encoded before they are joined and base64'd. */
function basicAuth(id: string, secret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`;
}

/** A 401 from HTTP or UNAUTHENTICATED from gRPC: the token was refused and may be stale. */
export function isUnauthenticated(error: unknown): boolean {
  const e = error as { status?: unknown; code?: unknown; getStatus?: () => number } | null;
  return e?.status === 401 || e?.code === 16 || e?.getStatus?.() === 401;
}

/**
 * This service's tokens for calling others. Client-credentials tokens per audience (RFC 6749
 * §4.4, client_secret_basic) and token exchange for acting on behalf of a user (RFC 8693). A
 * token is cached and refreshed in the background shortly before it expires (still used while
 * the refresh fails), concurrent callers share one request to the token endpoint, and
 * `withToken` retries once with a fresh token when the callee says 401 / UNAUTHENTICATED (e.g.
 * after a key rotation or a revocation of the old token).
 *
 * @example
 * const token = await tokens.getToken('users', 'users:read');
 * await tokens.withToken('users', (token) => call(token), 'users:read');
 */
export class ServiceTokenClient {
  private readonly cache = new Map<string, CachedToken>();
  private readonly exchanged = new LRUCache<string, CachedToken>({ max: 10_000 });
  private readonly inFlight = new Map<string, Promise<string>>();
  private readonly fetch: typeof fetch;
  private readonly now: () => number;

  constructor(private readonly options: ServiceTokenClientOptions) {
    this.fetch = options.fetch ?? ((...args) => globalThis.fetch(...args));
    this.now = options.now ?? Date.now;
  }

  get clientId(): string | undefined {
    return this.options.client?.id;
  }

  /** A client-credentials token for `audience` (optionally narrowed to `scope`). */
  getToken(audience: string, scope?: string): Promise<string> {
    const key = `cc\0${audience}\0${scope ?? ''}`;
    return this.cachedOrFetched(key, this.cache.get(key), async () => {
      const form: Record<string, string> = { grant_type: 'client_credentials', audience };
      if (scope) form.scope = scope;
      const fresh = await this.request(form);
      this.cache.set(key, fresh);
      return fresh.token;
    });
  }

  /** RFC 8693: a token for `audience` that carries the user of `subjectToken`, with `act` = this client. */
  exchange(subjectToken: string, audience: string, scope?: string): Promise<string> {
    const digest = createHash('sha256').update(subjectToken).digest('base64url');
    const key = `ex\0${audience}\0${scope ?? ''}\0${digest}`;
    return this.cachedOrFetched(key, this.exchanged.get(key), async () => {
      const form: Record<string, string> = {
        grant_type: TOKEN_EXCHANGE,
        subject_token: subjectToken,
        subject_token_type: ACCESS_TOKEN_TYPE,
        requested_token_type: ACCESS_TOKEN_TYPE,
        audience,
      };
      if (scope) form.scope = scope;
      const fresh = await this.request(form);
      this.exchanged.set(key, fresh, { ttl: Math.max(1, fresh.expiresAt - this.now()) });
      return fresh.token;
    });
  }

  /**
   * Forgets `refused`, a client-credentials token of `audience` that a callee refused, if it is
   * still cached. A token cached since (another call's retry fetched it) is kept: a burst of
   * calls refused together costs one token request, not one per call.
   */
  invalidate(audience: string, refused: string): void {
    for (const [key, cached] of this.cache) {
      if (key.startsWith(`cc\0${audience}\0`) && cached.token === refused) this.cache.delete(key);
    }
  }

  /** Calls `call` with a token; on 401 / UNAUTHENTICATED, once more with a fresh token. */
  async withToken<T>(
    audience: string,
    call: (token: string) => Promise<T>,
    scope?: string,
  ): Promise<T> {
    const token = await this.getToken(audience, scope);
    try {
      return await call(token);
    } catch (error) {
      if (!isUnauthenticated(error)) throw error;
      this.invalidate(audience, token);
      return call(await this.getToken(audience, scope));
    }
  }

  /**
   * The cached token until its refresh time. Then, while it is still valid, it is still
   * answered at once and a refresh runs in the background (an auth that is restarting delays
   * no call, and stops none before the token really expires); a failed refresh is tried again
   * by a call at least REFRESH_RETRY_MS later. With no valid token, callers wait for the fetch.
   */
  private cachedOrFetched(
    key: string,
    cached: CachedToken | undefined,
    load: () => Promise<string>,
  ): Promise<string> {
    const now = this.now();
    if (cached && now < cached.refreshAt) return Promise.resolve(cached.token);
    if (cached && now < cached.expiresAt) {
      if (!this.inFlight.has(key) && now >= (cached.refreshRetryAt ?? -Infinity)) {
        // On success the cache holds a new entry; on failure this one waits before the next try.
        this.singleFlight(key, load).catch(() => {
          cached.refreshRetryAt = this.now() + REFRESH_RETRY_MS;
        });
      }
      return Promise.resolve(cached.token);
    }
    return this.singleFlight(key, load);
  }

  private singleFlight(key: string, load: () => Promise<string>): Promise<string> {
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = load().finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private async request(form: Record<string, string>): Promise<CachedToken> {
    const client = this.options.client;
    if (!client) {
      throw new TypeError('SecurityModule: options.client is required for outgoing calls');
    }
    const started = this.now();
    let response: Response;
    try {
      response = await this.fetch(this.options.tokenEndpoint, {
        method: 'POST',
        headers: {
          authorization: basicAuth(client.id, client.secret),
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams(form).toString(),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
      });
    } catch (error) {
      throw new SecurityError('TOKEN_REQUEST_FAILED', 'token endpoint unreachable', {
        cause: error,
      });
    }
    const body = (await response.json().catch(() => null)) as Record<string, unknown> | null;
    if (!response.ok || !body) {
      // RFC 6749 §5.2: the error code is safe to report; the description may not be.
      const code = typeof body?.error === 'string' ? body.error : `HTTP ${response.status}`;
      throw new SecurityError('TOKEN_REQUEST_FAILED', `token request refused: ${code}`);
    }
    const token = body.access_token;
    const expiresIn = body.expires_in;
    if (
      typeof token !== 'string' ||
      token.length === 0 ||
      typeof body.token_type !== 'string' ||
      body.token_type.toLowerCase() !== 'bearer' ||
      typeof expiresIn !== 'number' ||
      !(expiresIn > 0)
    ) {
      throw new SecurityError('TOKEN_REQUEST_FAILED', 'token response is malformed');
    }
    const lifetimeMs = expiresIn * 1000;
    const earlyMs = Math.min((this.options.refreshBeforeSeconds ?? 60) * 1000, lifetimeMs / 2);
    return { token, expiresAt: started + lifetimeMs, refreshAt: started + lifetimeMs - earlyMs };
  }
}
