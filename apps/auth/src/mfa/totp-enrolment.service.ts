import { ApiError, assertAllowed, RateLimiter } from '@app/platform';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource, IsNull } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Identity } from '../identities/identity.entity';
import { KeyEncryption } from '../keys/key-encryption';
import { LIMIT_RULES, type LimitRules } from '../rate-limit/limit-rules';
import { RevocationService } from '../revocations/revocation.service';
import { MfaChallengeService } from './mfa-challenge.service';
import { RecoveryCodes } from './recovery-codes';
import { newTotpSecret, totpUri } from './totp';

/** TOTP enrolment: a pending secret becomes active once the user proves they hold it. */
@Injectable()
export class TotpEnrolmentService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly encryption: KeyEncryption,
    private readonly challenges: MfaChallengeService,
    private readonly limiter: RateLimiter,
    private readonly audit: AuditService,
    private readonly revocations: RevocationService,
    @Inject(LIMIT_RULES) private readonly rules: LimitRules,
    private readonly recoveryCodes: RecoveryCodes,
  ) {}

  async setup(userId: string): Promise<{ secret: string; otpauthUri: string }> {
    const identity = await this.dataSource.getRepository(Identity).findOneBy({ id: userId });
    if (!identity) throw new ApiError(401, 'unknown user');
    if (identity.totpSecret) throw new ApiError(409, 'TOTP is already enabled');
    const secret = newTotpSecret();
    // Written only to the account as read: a confirm, an admin reset or a revocation that
    // committed meanwhile wins, and this setup leaves nothing behind.
    const { affected } = await this.dataSource
      .getRepository(Identity)
      .update(
        { id: userId, totpSecret: IsNull(), tokensValidAfter: identity.tokensValidAfter },
        { totpPendingSecret: this.encryption.encrypt(secret, `totp:${userId}`) },
      );
    if (!affected) throw new ApiError(409, 'the account changed during setup: try again');
    return { secret, otpauthUri: totpUri(secret, identity.email) };
  }

  /** Activates the pending secret; returns the user's recovery codes, shown this once. */
  async confirm(userId: string, code: string): Promise<{ recoveryCodes: string[] }> {
    // Counted before the code is checked (see SessionsService.login), cleared by a success.
    assertAllowed(await this.limiter.consume(userId, this.rules.mfaAccount));
    const outcome = await this.dataSource.transaction(async (manager) => {
      // Locked until commit: a second confirm waits, then sees the secret this one activated.
      const identity = await manager.findOne(Identity, {
        where: { id: userId },
        lock: { mode: 'pessimistic_write' },
      });
      // Setup writes no pending secret beside an active one, but a row from an older version
      // (whose setup did not check) may hold one: confirming it would silently replace the
      // owner's second factor.
      if (identity?.totpSecret) return 'already_enabled';
      const accepted = await this.challenges.acceptCode(manager, identity, code, true);
      if (!accepted) return 'bad_code';
      await manager.update(
        Identity,
        { id: userId },
        { totpSecret: accepted.totpPendingSecret, totpPendingSecret: null },
      );
      return { recoveryCodes: await this.recoveryCodes.replace(manager, userId) };
    });
    if (outcome === 'already_enabled') {
      this.audit.record('mfa_enrolment', 'failure', { userId, reason: 'already_enabled' });
      throw new ApiError(409, 'TOTP is already enabled');
    }
    if (outcome === 'bad_code') {
      this.audit.record('mfa_enrolment', 'failure', { userId, reason: 'bad_code' });
      throw new ApiError(400, 'invalid code');
    }
    await this.limiter.reset(userId, this.rules.mfaAccount);
    this.audit.record('mfa_enrolment', 'success', { userId });
    return outcome;
  }

  /**
   * A new set of recovery codes for a user with active TOTP; the old set stops working. 409
   * without TOTP: there is no factor to recover.
   */
  async regenerateRecoveryCodes(userId: string): Promise<{ recoveryCodes: string[] }> {
    const recoveryCodes = await this.dataSource.transaction(async (manager) => {
      const identity = await manager.findOne(Identity, {
        where: { id: userId },
        lock: { mode: 'pessimistic_write' },
      });
      if (!identity) throw new ApiError(401, 'unknown user');
      if (!identity.totpSecret) throw new ApiError(409, 'TOTP is not enabled');
      return this.recoveryCodes.replace(manager, userId);
    });
    this.audit.record('mfa_recovery_codes', 'success', { userId, reason: 'regenerated' });
    return { recoveryCodes };
  }

  /**
   * An admin removes a user's TOTP (a lost authenticator): active and pending secrets go, and
   * so does every session and token of the user, including logins waiting for their second
   * factor, since the factor they were checked against is no longer trusted. The user logs in
   * with the password and may enrol again.
   */
  async reset(userId: string, adminId: string): Promise<void> {
    const outcome = await this.dataSource.transaction(async (manager) => {
      const identity = await manager.findOne(Identity, {
        where: { id: userId },
        lock: { mode: 'pessimistic_write' },
      });
      if (!identity) return 'unknown_user';
      if (!identity.totpSecret && !identity.totpPendingSecret) return 'not_enrolled';
      await manager.update(Identity, { id: userId }, { totpSecret: null, totpPendingSecret: null });
      await this.recoveryCodes.removeAll(manager, userId);
      await this.revocations.revokeUser(manager, userId, 'mfa_reset');
      return 'reset';
    });
    if (outcome === 'unknown_user') throw new ApiError(404, 'user not found');
    if (outcome === 'not_enrolled') throw new ApiError(404, 'the user has no TOTP');
    // Recorded at once: the reset has committed, whatever happens next.
    this.audit.record('admin_change', 'success', {
      userId: adminId,
      target: userId,
      reason: 'totp_reset',
    });
    // The guess counter only matters for the next enrolment; a failure to clear it is no reason
    // to report a committed reset as failed.
    await this.limiter.reset(userId, this.rules.mfaAccount).catch(() => undefined);
  }
}
