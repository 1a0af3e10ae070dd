import { ApiError } from '@app/platform';
import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { AUTH_CONFIG, type AuthConfig } from '../auth.config';
import { AuditService } from '../audit/audit.service';
import { CLOCK, type Clock } from '../common/clock';
import { RevocationService } from '../revocations/revocation.service';
import { lockIdentityIfUnchanged } from '../identities/identity-unchanged';

export interface SessionInfo {
  sid: string;
  identityId: string;
  authTime: number;
  amr: string[];
}

export interface IssuedRefreshToken {
  token: string;
  /** Seconds until the cookie should expire (idle, capped by the absolute expiry). */
  maxAge: number;
}

interface TokenRow {
  family_id: string;
  rotated_at: Date | null;
  idle_expires_at: Date;
  identity_id: string;
  auth_time: string;
  amr: string[];
  expires_at: Date;
  revoked_at: Date | null;
}

/** Only a hash is stored: a database dump reveals no usable refresh token. */
export const hashRefreshToken = (token: string) => createHash('sha256').update(token).digest();

const invalid = () =>
  new ApiError(401, 'refresh token is invalid or expired', {
    headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
  });

/**
 * Refresh tokens (SPEC §3): opaque, 256 random bits, stored hashed, single use, rotated on
 * every refresh under a row lock (two concurrent refreshes: exactly one wins). A rotated-out
 * token within the grace window is refused without side effects; after it, it revokes the
 * whole family. Idle and absolute expiry.
 */
@Injectable()
export class RefreshTokenFamily {
  constructor(
    private readonly dataSource: DataSource,
    private readonly revocations: RevocationService,
    private readonly audit: AuditService,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** A new session for the identity as the credential check read it; null if it has changed since (lockIdentityIfUnchanged). */
  async start(identityId: string, amr: string[], authTime: number, tokensValidAfter: number) {
    const sid = randomUUID();
    const now = this.clock.now();
    const expiresAt = new Date(now + this.config.REFRESH_ABSOLUTE_SECONDS * 1000);
    return this.dataSource.transaction(async (manager) => {
      if (!(await lockIdentityIfUnchanged(manager, identityId, tokensValidAfter))) return null;
      await manager.query(
        `INSERT INTO refresh_families (id, identity_id, auth_time, amr, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [sid, identityId, authTime, amr, new Date(now), expiresAt],
      );
      const refresh = await this.insertToken(manager, sid, expiresAt);
      return { sid, refresh };
    });
  }

  /** Exchanges `token` for its successor. Throws 401 for anything but a live, unused token. */
  async rotate(token: string): Promise<{ session: SessionInfo; refresh: IssuedRefreshToken }> {
    const now = this.clock.now();
    const outcome = await this.dataSource.transaction(async (manager) => {
      const rows: TokenRow[] = await manager.query(
        `SELECT t.family_id, t.rotated_at, t.idle_expires_at,
                f.identity_id, f.auth_time, f.amr, f.expires_at, f.revoked_at
           FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id
          WHERE t.token_hash = $1
          FOR UPDATE OF t`,
        [hashRefreshToken(token)],
      );
      const row = rows[0];
      if (!row || row.revoked_at || row.expires_at.getTime() <= now) return { ok: false as const };
      if (row.rotated_at) {
        if (now - row.rotated_at.getTime() <= this.config.REFRESH_GRACE_SECONDS * 1000) {
          // Two tabs racing: refuse this one, keep the session.
          return { ok: false as const };
        }
        await this.revocations.revokeFamily(manager, row.family_id, 'refresh_reuse');
        return { ok: false as const, reuse: row };
      }
      if (row.idle_expires_at.getTime() <= now) return { ok: false as const };
      await manager.query('UPDATE refresh_tokens SET rotated_at = $2 WHERE token_hash = $1', [
        hashRefreshToken(token),
        new Date(now),
      ]);
      const refresh = await this.insertToken(manager, row.family_id, row.expires_at);
      const session: SessionInfo = {
        sid: row.family_id,
        identityId: row.identity_id,
        authTime: Number(row.auth_time),
        amr: row.amr,
      };
      return { ok: true as const, session, refresh };
    });
    if (outcome.ok) return { session: outcome.session, refresh: outcome.refresh };
    if ('reuse' in outcome && outcome.reuse) {
      this.audit.record('refresh_reuse', 'failure', {
        userId: outcome.reuse.identity_id,
        sid: outcome.reuse.family_id,
      });
    } else {
      this.audit.record('refresh', 'failure', { reason: 'invalid_or_expired' });
    }
    throw invalid();
  }

  /** Logout: the family of `token`, whatever the state of this one token. */
  async revokeByToken(token: string): Promise<string | null> {
    return this.dataSource.transaction(async (manager) => {
      const rows: { family_id: string }[] = await manager.query(
        `SELECT t.family_id FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id
          WHERE t.token_hash = $1 AND f.revoked_at IS NULL`,
        [hashRefreshToken(token)],
      );
      if (!rows[0]) return null;
      await this.revocations.revokeFamily(manager, rows[0].family_id, 'logout');
      return rows[0].family_id;
    });
  }

  private async insertToken(
    manager: EntityManager,
    familyId: string,
    familyExpiresAt: Date,
  ): Promise<IssuedRefreshToken> {
    const token = randomBytes(32).toString('base64url');
    const now = this.clock.now();
    const idleExpiresAt = Math.min(
      now + this.config.REFRESH_IDLE_SECONDS * 1000,
      familyExpiresAt.getTime(),
    );
    await manager.query(
      `INSERT INTO refresh_tokens (token_hash, family_id, created_at, idle_expires_at)
       VALUES ($1, $2, $3, $4)`,
      [hashRefreshToken(token), familyId, new Date(now), new Date(idleExpiresAt)],
    );
    return { token, maxAge: Math.max(0, Math.floor((idleExpiresAt - now) / 1000)) };
  }
}
