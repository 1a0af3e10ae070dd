import {
  ALLOWED_ALGORITHMS,
  CLOCK_TOLERANCE_SECONDS,
  type AllowedAlgorithm,
} from './contract/access-token.claims';
import type { Policy } from './casl/policy';

/**
 * Options of `SecurityModule.forRoot`.
 *
 * @example
 * SecurityModule.forRoot({ issuer: env.AUTH_ISSUER, audience: 'inventory', policies: [ItemsPolicy] })
 */
export interface SecurityModuleOptions {
  /** The authorization server (`AUTH_ISSUER`): tokens must carry exactly this `iss`. */
  issuer: string;
  /** This service's name: tokens must list it in `aud`. */
  audience: string;
  /** This service's OAuth client, for outgoing calls and events. */
  client?: { id: string; secret: string };
  /** CASL policies of this service's domains. Default none (nothing is allowed by policy). */
  policies?: Policy[];
  /** Default `${issuer}/.well-known/jwks.json`. */
  jwksUri?: string;
  /**
   * Keys the issuer has retired, for NATS messages stored before a rotation. Default
   * `${issuer}/.well-known/retired-jwks.json`.
   */
  retiredJwksUri?: string;
  /** Default `${issuer}/oauth/token`. */
  tokenEndpoint?: string;
  /** Accepted algorithms, a subset of ES256, RS256, EdDSA. Default all three. */
  algorithms?: AllowedAlgorithm[];
  /** Leeway for exp/nbf/iat in seconds, 0..30. Default 30 (SPEC §3 maximum). */
  clockToleranceSeconds?: number;
  /** An unknown kid refetches the JWKS at most once per this many ms. Default 30 000. */
  jwksCooldownMs?: number;
  /** Verified tokens kept in memory (LRU); 0 disables the cache. Default 10 000. */
  verificationCacheSize?: number;
  /**
   * Follow `auth.revocations` and `auth.revocations.stored` on NATS (needs `MessagingModule`).
   * Default true. Turning it off
   * means revoked tokens stay valid until they expire: for tests and benchmarks only.
   */
  revocations?: boolean;
}

export type ResolvedSecurityOptions = Required<Omit<SecurityModuleOptions, 'client'>> &
  Pick<SecurityModuleOptions, 'client'>;

const NAME = /^[a-z][a-z0-9-]{0,62}$/;

function fail(option: string, rule: string): never {
  throw new TypeError(`SecurityModule: options.${option} ${rule}`);
}

function httpUrl(option: string, value: unknown): string {
  if (typeof value !== 'string') fail(option, 'must be an http(s) URL');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    fail(option, 'must be an http(s) URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail(option, 'must be an http(s) URL');
  if (url.username || url.password || url.search || url.hash) {
    fail(option, 'must not carry credentials, a query or a fragment');
  }
  return value;
}

function integer(option: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(option, `must be an integer from ${min} to ${max}`);
  }
  return value;
}

/** Validates once at start; a bad value throws a TypeError naming the option. */
export function resolveSecurityOptions(options: SecurityModuleOptions): ResolvedSecurityOptions {
  if (typeof options !== 'object' || options === null) fail('', 'must be an object');
  const issuer = httpUrl('issuer', options.issuer).replace(/\/+$/, '');
  if (typeof options.audience !== 'string' || !NAME.test(options.audience)) {
    fail('audience', 'must be a service name (lowercase letters, digits, dashes)');
  }
  if (options.client !== undefined) {
    const { id, secret } = options.client ?? {};
    if (typeof id !== 'string' || id.length === 0) fail('client.id', 'must be a non-empty string');
    if (typeof secret !== 'string' || secret.length === 0) {
      fail('client.secret', 'must be a non-empty string');
    }
  }
  const algorithms = options.algorithms ?? [...ALLOWED_ALGORITHMS];
  if (
    !Array.isArray(algorithms) ||
    algorithms.length === 0 ||
    !algorithms.every((alg) => ALLOWED_ALGORITHMS.includes(alg))
  ) {
    fail('algorithms', `must be a non-empty subset of ${ALLOWED_ALGORITHMS.join(', ')}`);
  }
  const policies = options.policies ?? [];
  if (!Array.isArray(policies) || !policies.every((p) => p && typeof p.roles === 'object')) {
    fail('policies', 'must be an array of definePolicy(...) results');
  }
  if (options.revocations !== undefined && typeof options.revocations !== 'boolean') {
    fail('revocations', 'must be a boolean');
  }
  return {
    issuer,
    audience: options.audience,
    client: options.client,
    policies,
    jwksUri: httpUrl('jwksUri', options.jwksUri ?? `${issuer}/.well-known/jwks.json`),
    retiredJwksUri: httpUrl(
      'retiredJwksUri',
      options.retiredJwksUri ?? `${issuer}/.well-known/retired-jwks.json`,
    ),
    tokenEndpoint: httpUrl('tokenEndpoint', options.tokenEndpoint ?? `${issuer}/oauth/token`),
    algorithms,
    clockToleranceSeconds: integer(
      'clockToleranceSeconds',
      options.clockToleranceSeconds ?? CLOCK_TOLERANCE_SECONDS,
      0,
      CLOCK_TOLERANCE_SECONDS,
    ),
    jwksCooldownMs: integer('jwksCooldownMs', options.jwksCooldownMs ?? 30_000, 1000, 3_600_000),
    verificationCacheSize: integer(
      'verificationCacheSize',
      options.verificationCacheSize ?? 10_000,
      0,
      1_000_000,
    ),
    revocations: options.revocations ?? true,
  };
}
