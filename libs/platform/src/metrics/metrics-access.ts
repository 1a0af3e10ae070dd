import { createHash, timingSafeEqual } from 'node:crypto';

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Who may read `GET /metrics`: a scraper sending `Authorization: Bearer <METRICS_TOKEN>` (or,
 * during a rotation, the previous token). Tokens are compared as SHA-256 digests in constant
 * time, every configured one each time, so neither content nor length nor which one matched
 * leaks through timing. Without a token (development and tests; production requires one)
 * /metrics is open.
 */
export class MetricsAccess {
  private readonly digests: Buffer[];

  constructor(token: string | undefined, previousToken?: string) {
    this.digests = token ? [token, previousToken].filter((t) => t !== undefined).map(sha256) : [];
  }

  allows(authorization: unknown): boolean {
    if (this.digests.length === 0) return true;
    if (typeof authorization !== 'string') return false;
    const presented = BEARER.exec(authorization)?.[1];
    if (presented === undefined) return false;
    const digest = sha256(presented);
    let allowed = false;
    for (const expected of this.digests) allowed = timingSafeEqual(digest, expected) || allowed;
    return allowed;
  }
}
