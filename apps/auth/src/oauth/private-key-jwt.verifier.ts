import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AUTH_CONFIG, type AuthConfig } from '../auth.config';
import { CLOCK, type Clock } from '../common/clock';
import { ClientsService } from '../clients/clients.service';
import { isClientId, type OAuthClient } from '../clients/oauth-client';
import { decodeCompact, publicKeyFromJwk, verifySignature } from '../tokens/jws';
import { CLOCK_TOLERANCE_SECONDS } from '@app/security';

/** An assertion may live at most this long (it is single use anyway). */
const MAX_ASSERTION_LIFETIME_SECONDS = 300;

export type AssertionResult =
  | { client: OAuthClient; clientId: string; reason: 'ok' }
  | { client: null; clientId?: string; reason: string };

/**
 * RFC 7523 §3 client assertions: iss = sub = client_id, aud = the issuer identifier (one
 * string, draft-ietf-oauth-rfc7523bis), a short exp, a jti never seen before, signed by a key
 * the client registered.
 */
@Injectable()
export class PrivateKeyJwtVerifier {
  private readonly logger = new Logger('ClientAssertions');
  /** Clients already logged for a legacy audience (at most one line per client and process). */
  private readonly legacyAudienceLogged = new Set<string>();

  constructor(
    private readonly clients: ClientsService,
    private readonly dataSource: DataSource,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /**
   * draft-ietf-oauth-rfc7523bis: the audience is the issuer identifier, as a single string. A
   * token endpoint URL, or an array, let an authorization server the client also talks to
   * (one that names this token endpoint as its own) obtain an assertion valid here. The older
   * forms are accepted only with CLIENT_ASSERTION_LEGACY_AUDIENCE.
   */
  private acceptsAudience(aud: unknown, clientId: string): boolean {
    const issuer = this.config.AUTH_ISSUER;
    if (aud === issuer) return true;
    if (!this.config.CLIENT_ASSERTION_LEGACY_AUDIENCE) return false;
    const endpoint = `${issuer.replace(/\/$/, '')}/oauth/token`;
    const audiences: unknown[] = Array.isArray(aud) ? aud : [aud];
    if (!audiences.some((value) => value === endpoint || value === issuer)) return false;
    if (!this.legacyAudienceLogged.has(clientId)) {
      this.legacyAudienceLogged.add(clientId);
      this.logger.warn(
        { clientId },
        'client assertion with a legacy audience (token endpoint URL or array): send the issuer identifier alone',
      );
    }
    return true;
  }

  async verify(assertion: string, claimedClientId?: string): Promise<AssertionResult> {
    let decoded;
    try {
      decoded = decodeCompact(assertion);
    } catch {
      return { client: null, reason: 'malformed_assertion' };
    }
    const claims = decoded.payload as Record<string, unknown>;
    const clientId = typeof claims.sub === 'string' ? claims.sub : undefined;
    if (!clientId || claims.iss !== clientId)
      return { client: null, clientId, reason: 'iss_sub_mismatch' };
    if (claimedClientId !== undefined && claimedClientId !== clientId) {
      return { client: null, clientId, reason: 'client_id_mismatch' };
    }
    if (!isClientId(clientId)) return { client: null, reason: 'malformed_client_id' };
    const client = await this.clients.find(clientId);
    if (!client || client.tokenEndpointAuthMethod !== 'private_key_jwt' || !client.jwks) {
      return { client: null, clientId, reason: 'not_a_private_key_jwt_client' };
    }
    const kid = decoded.header.kid;
    const candidates = client.jwks.keys.filter((jwk) => kid === undefined || jwk.kid === kid);
    const verified = candidates.some((jwk) => {
      try {
        verifySignature(decoded, publicKeyFromJwk(jwk));
        return true;
      } catch {
        return false;
      }
    });
    if (!verified) return { client: null, clientId, reason: 'bad_signature' };

    if (!this.acceptsAudience(claims.aud, clientId)) {
      return { client: null, clientId, reason: 'wrong_audience' };
    }
    const now = this.clock.now() / 1000;
    if (typeof claims.exp !== 'number' || claims.exp <= now - CLOCK_TOLERANCE_SECONDS) {
      return { client: null, clientId, reason: 'expired' };
    }
    if (claims.exp > now + MAX_ASSERTION_LIFETIME_SECONDS + CLOCK_TOLERANCE_SECONDS) {
      return { client: null, clientId, reason: 'lifetime_too_long' };
    }
    if (typeof claims.nbf === 'number' && claims.nbf > now + CLOCK_TOLERANCE_SECONDS) {
      return { client: null, clientId, reason: 'not_yet_valid' };
    }
    if (typeof claims.jti !== 'string' || claims.jti.length === 0 || claims.jti.length > 256) {
      return { client: null, clientId, reason: 'no_jti' };
    }
    // RFC 7523 §3 item 7: a jti is accepted once (replay protection) until the assertion expires.
    await this.dataSource.query('DELETE FROM used_client_assertions WHERE expires_at < $1', [
      new Date(this.clock.now() - CLOCK_TOLERANCE_SECONDS * 1000),
    ]);
    const fresh: unknown[] = await this.dataSource.query(
      `INSERT INTO used_client_assertions (client_id, jti, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT DO NOTHING RETURNING 1`,
      [clientId, claims.jti, new Date((claims.exp + CLOCK_TOLERANCE_SECONDS) * 1000)],
    );
    if (fresh.length === 0) return { client: null, clientId, reason: 'replayed_jti' };
    return { client, clientId, reason: 'ok' };
  }
}
