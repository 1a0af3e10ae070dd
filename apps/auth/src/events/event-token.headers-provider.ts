import type { MessageHeadersProvider } from '@app/platform';
import { EVENTS_AUDIENCE, EVENTS_PUBLISH_SCOPE } from '@app/security';
import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock } from '../common/clock';
import { AccessTokenIssuer } from '../tokens/access-token.issuer';
import { AUTH_CLIENT_ID } from '../tokens/token.constants';

/** A cached token is replaced this long before it expires (consumers check it at store time). */
const RENEW_BEFORE_MS = 60_000;

/**
 * `Authorization: Bearer <token>` on every message auth publishes (SPEC §5). auth signs its
 * own service token: client_id "auth", aud "events", scope events:publish.
 */
@Injectable()
export class EventTokenHeadersProvider implements MessageHeadersProvider {
  private cached: { token: Promise<string>; renewAt: number } | null = null;

  constructor(
    private readonly issuer: AccessTokenIssuer,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async headersFor(): Promise<Record<string, string>> {
    if (!this.cached || this.clock.now() >= this.cached.renewAt) {
      // One signature for concurrent publishers; a failed one is not kept.
      const token = this.issuer
        .issueForService(AUTH_CLIENT_ID, EVENTS_AUDIENCE, EVENTS_PUBLISH_SCOPE)
        .then((issued) => {
          if (this.cached?.token === token) {
            this.cached.renewAt = issued.claims.exp * 1000 - RENEW_BEFORE_MS;
          }
          return issued.token;
        });
      this.cached = { token, renewAt: Infinity };
      token.catch(() => {
        if (this.cached?.token === token) this.cached = null;
      });
    }
    return { Authorization: `Bearer ${await this.cached.token}` };
  }
}
