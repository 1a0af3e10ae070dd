import { createHash, timingSafeEqual } from 'node:crypto';

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Who may read `GET /metrics`: a scraper sending `Authorization: Bearer <METRICS_TOKEN>`.
 * The token is compared as a SHA-256 digest in constant time, so neither its content nor its
 * length leaks through timing. Without a token (development and tests; production requires
 * one) /metrics is open.
 */
export class MetricsAccess {
  private readonly digest: Buffer | undefined;

  constructor(token: string | undefined) {
    this.digest = token ? sha256(token) : undefined;
  }

  allows(authorization: unknown): boolean {
    if (!this.digest) return true;
    if (typeof authorization !== 'string') return false;
    const presented = BEARER.exec(authorization)?.[1];
    return presented !== undefined && timingSafeEqual(sha256(presented), this.digest);
  }
}
