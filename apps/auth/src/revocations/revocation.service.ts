import { OutboxService, SUBJECTS } from '@app/platform';
import {
  coversStoredMessages,
  maySignEvents,
  storedMessagesDeadline,
  type AccessTokenClaims,
  type RevocationEvent,
} from '@app/security';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { CLOCK, epochSeconds, type Clock } from '../common/clock';
import { returnedRows } from '../common/sql';

/**
 * Every revocation changes auth's own tables and writes an `auth.revocations` event to the
 * outbox in the same transaction (SPEC §3, §5), so resource servers hear of it within a
 * second, and a revocation is never lost while NATS is down.
 */
@Injectable()
export class RevocationService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxService,
    private readonly audit: AuditService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /**
   * `at` of an event covering "tokens issued before `at`": the next whole second, so a token
   * issued earlier in the current second is covered too (iat has one-second resolution).
   */
  private cutoff(): number {
    return epochSeconds(this.clock) + 1;
  }

  private async publish(manager: EntityManager, event: RevocationEvent): Promise<void> {
    await this.outbox.enqueue(manager, SUBJECTS.REVOCATIONS, event);
    // Replayed by a starting replica for a week, not 15 minutes (SUBJECTS.STORED_REVOCATIONS).
    if (coversStoredMessages(event)) {
      await this.outbox.enqueue(manager, SUBJECTS.STORED_REVOCATIONS, event);
    }
  }

  /** Logout, or a refresh token reused after the grace window: one login session. */
  async revokeFamily(manager: EntityManager, sid: string, reason: string): Promise<void> {
    await manager.query(
      'UPDATE refresh_families SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL',
      [sid, new Date(this.clock.now())],
    );
    await this.publish(manager, { type: 'sid', sid, at: this.cutoff() });
    this.audit.record('revocation', 'success', { sid, reason });
  }

  /**
   * Password change, disabling, role change, deletion: every token of the user. Refresh
   * families end too, except `keepSid` (the session that changed the password), each with a
   * `sid` event: a refresh in flight when the families end issues its token after `at`, which
   * the `sub` event (`iat < at`) does not cover.
   */
  async revokeUser(
    manager: EntityManager,
    userId: string,
    reason: string,
    keepSid?: string,
  ): Promise<void> {
    // Strictly increasing, even for two revocations within one second (or a replica whose
    // clock is behind): a login compares the value it read with the current one to learn that
    // the account changed meanwhile (RefreshTokenFamily.start, MfaChallengeService).
    const bumped: { at: string }[] = returnedRows(
      await manager.query(
        `UPDATE identities SET tokens_valid_after = GREATEST(tokens_valid_after + 1, $2)
          WHERE id = $1 RETURNING tokens_valid_after::text AS at`,
        [userId, this.cutoff()],
      ),
    );
    const at = bumped.length > 0 ? Number(bumped[0].at) : this.cutoff();
    const ended = returnedRows<{ id: string }>(
      await manager.query(
        `UPDATE refresh_families SET revoked_at = $2
          WHERE identity_id = $1 AND revoked_at IS NULL AND ($3::uuid IS NULL OR id <> $3::uuid)
          RETURNING id`,
        [userId, new Date(this.clock.now()), keepSid ?? null],
      ),
    );
    // A login waiting for its second factor was checked against what just changed.
    await manager.query(
      'UPDATE mfa_challenges SET used_at = $2 WHERE identity_id = $1 AND used_at IS NULL',
      [userId, new Date(this.clock.now())],
    );
    await this.publish(manager, { type: 'sub', sub: userId, at });
    for (const { id } of ended) await this.publish(manager, { type: 'sid', sid: id, at });
    this.audit.record('revocation', 'success', { userId, reason });
  }

  /**
   * RFC 7009 revocation of one access token. A token that can sign NATS messages stays denied
   * (here and in every replica's list) as long as a stream keeps a message it signed, not
   * only until it expires. A token revoked before is not broadcast again.
   */
  async revokeAccessToken(manager: EntityManager, claims: AccessTokenClaims): Promise<void> {
    const signsEvents = maySignEvents(claims);
    // `expires_at` is when the row may go (AUTH_RETENTION deletes it an hour later): for a
    // token signing events, when the last message it could sign has left its stream (the
    // deadline every replica's list keeps it to).
    const keepUntilMs = (signsEvents ? storedMessagesDeadline(claims.exp) : claims.exp) * 1000;
    // A row already there (revoked before, perhaps by an older version keeping it shorter)
    // is lengthened, and not broadcast again.
    const [row] = returnedRows<{ inserted: boolean }>(
      await manager.query(
        `INSERT INTO revoked_access_tokens (jti, expires_at) VALUES ($1, $2)
         ON CONFLICT (jti) DO UPDATE
           SET expires_at = GREATEST(revoked_access_tokens.expires_at, EXCLUDED.expires_at)
         RETURNING (xmax = 0) AS inserted`,
        [claims.jti, new Date(keepUntilMs)],
      ),
    );
    if (!row?.inserted) return;
    await this.publish(manager, {
      type: 'jti',
      jti: claims.jti,
      exp: claims.exp,
      at: this.cutoff(),
      ...(signsEvents ? { signsEvents: true as const } : {}),
    });
    this.audit.record('revocation', 'success', {
      jti: claims.jti,
      clientId: claims.client_id,
      reason: 'oauth_revoke',
    });
  }

  /** A deleted client: every token it holds. */
  async revokeClient(manager: EntityManager, clientId: string, staleForMs = 0): Promise<void> {
    const at = this.cutoff() + Math.ceil(staleForMs / 1000);
    await this.publish(manager, { type: 'client', clientId, at });
    this.audit.record('revocation', 'success', { clientId, reason: 'client_deleted' });
  }

  /**
   * Whether auth itself must refuse `claims` (its own endpoints, token exchange): the same
   * decisions the broadcast makes elsewhere, read from auth's tables.
   */
  async isRevoked(claims: AccessTokenClaims): Promise<boolean> {
    const rows: { revoked: boolean }[] = await this.dataSource.query(
      `SELECT
         EXISTS (SELECT 1 FROM revoked_access_tokens WHERE jti = $1)
         OR ($2::uuid IS NOT NULL AND NOT EXISTS (
               SELECT 1 FROM refresh_families WHERE id = $2::uuid AND revoked_at IS NULL))
         OR ($3::uuid IS NOT NULL AND NOT EXISTS (
               SELECT 1 FROM identities WHERE id = $3::uuid AND NOT disabled AND tokens_valid_after <= $4))
         OR ($5::text IS NOT NULL AND NOT EXISTS (SELECT 1 FROM oauth_clients WHERE client_id = $5))
         AS revoked`,
      [
        claims.jti,
        claims.sid ?? null,
        claims.roles ? claims.sub : null,
        claims.iat,
        // A delegated token dies with its actor client; a service token with its client.
        claims.act ? claims.act.sub : claims.roles ? null : claims.client_id,
      ],
    );
    return rows[0]?.revoked ?? true;
  }
}
