import { ApiError, assertAllowed, RateLimiter } from '@app/platform';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Identity } from '../identities/identity.entity';
import { KeyEncryption } from '../keys/key-encryption';
import { LIMIT_RULES, type LimitRules } from '../rate-limit/limit-rules';
import { MfaChallengeService } from './mfa-challenge.service';
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
    @Inject(LIMIT_RULES) private readonly rules: LimitRules,
  ) {}

  async setup(userId: string): Promise<{ secret: string; otpauthUri: string }> {
    const identity = await this.dataSource.getRepository(Identity).findOneBy({ id: userId });
    if (!identity) throw new ApiError(401, 'unknown user');
    if (identity.totpSecret) throw new ApiError(409, 'TOTP is already enabled');
    const secret = newTotpSecret();
    await this.dataSource
      .getRepository(Identity)
      .update(
        { id: userId },
        { totpPendingSecret: this.encryption.encrypt(secret, `totp:${userId}`) },
      );
    return { secret, otpauthUri: totpUri(secret, identity.email) };
  }

  async confirm(userId: string, code: string): Promise<void> {
    // Counted before the code is checked (see SessionsService.login), cleared by a success.
    assertAllowed(await this.limiter.consume(userId, this.rules.mfaAccount));
    const confirmed = await this.dataSource.transaction(async (manager) => {
      const identity = await this.challenges.acceptCode(manager, userId, code, true);
      if (!identity) return false;
      await manager.update(
        Identity,
        { id: userId },
        { totpSecret: identity.totpPendingSecret, totpPendingSecret: null },
      );
      return true;
    });
    if (!confirmed) {
      this.audit.record('mfa_enrolment', 'failure', { userId, reason: 'bad_code' });
      throw new ApiError(400, 'invalid code');
    }
    await this.limiter.reset(userId, this.rules.mfaAccount);
    this.audit.record('mfa_enrolment', 'success', { userId });
  }
}
