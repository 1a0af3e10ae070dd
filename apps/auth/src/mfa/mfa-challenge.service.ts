import { ApiError, assertAllowed, RateLimiter } from '@app/platform';
import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { CLOCK, type Clock } from '../common/clock';
import { Identity } from '../identities/identity.entity';
import { KeyEncryption } from '../keys/key-encryption';
import { LIMIT_RULES, type LimitRules } from '../rate-limit/limit-rules';
import { isRecoveryCode, RecoveryCodes } from './recovery-codes';
import { matchTotpStep } from './totp';
import { lockIdentityIfUnchanged } from '../identities/identity-unchanged';

const CHALLENGE_TTL_MS = 5 * 60 * 1000;
/** Wrong codes one challenge survives before it is burnt. */
const CHALLENGE_MAX_FAILURES = 3;

const hash = (token: string) => createHash('sha256').update(token).digest();
const refused = () => new ApiError(401, 'invalid or expired MFA code');

/**
 * The second step of a login with TOTP: a short-lived, single-use, hashed challenge. Guesses
 * are limited per challenge and per account; a code's time step is accepted once per account.
 */
@Injectable()
export class MfaChallengeService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly encryption: KeyEncryption,
    private readonly limiter: RateLimiter,
    private readonly audit: AuditService,
    @Inject(LIMIT_RULES) private readonly rules: LimitRules,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly recoveryCodes: RecoveryCodes,
  ) {}

  /** A challenge for the identity as the password check read it; null if it has changed since (lockIdentityIfUnchanged). */
  async createChallenge(identityId: string, tokensValidAfter: number): Promise<string | null> {
    const token = randomBytes(32).toString('base64url');
    return this.dataSource.transaction(async (manager) => {
      if (!(await lockIdentityIfUnchanged(manager, identityId, tokensValidAfter))) return null;
      await manager.query(
        'INSERT INTO mfa_challenges (token_hash, identity_id, expires_at) VALUES ($1, $2, $3)',
        [hash(token), identityId, new Date(this.clock.now() + CHALLENGE_TTL_MS)],
      );
      return token;
    });
  }

  async redeemChallenge(mfaToken: string, code: string): Promise<Identity> {
    const rows: {
      identity_id: string;
      expires_at: Date;
      failures: number;
      used_at: Date | null;
    }[] = await this.dataSource.query(
      'SELECT identity_id, expires_at, failures, used_at FROM mfa_challenges WHERE token_hash = $1',
      [hash(mfaToken)],
    );
    const challenge = rows[0];
    if (!challenge || challenge.used_at || challenge.expires_at.getTime() <= this.clock.now()) {
      throw refused();
    }
    // Counted before the code is checked (see SessionsService.login), cleared by a success.
    assertAllowed(await this.limiter.consume(challenge.identity_id, this.rules.mfaAccount));
    const recovery = isRecoveryCode(code);
    const outcome = await this.dataSource.transaction(async (manager) => {
      // The identity, then this challenge, locked in revokeUser's order, and the challenge read
      // again under its lock: of two requests with one mfaToken (a double submit), the second
      // sees what the first did, so neither a second code is spent nor a failure miscounted.
      const locked = await manager.findOne(Identity, {
        where: { id: challenge.identity_id },
        lock: { mode: 'pessimistic_write' },
      });
      const [current]: { expires_at: Date; used_at: Date | null }[] = await manager.query(
        'SELECT expires_at, used_at FROM mfa_challenges WHERE token_hash = $1 FOR UPDATE',
        [hash(mfaToken)],
      );
      if (!current || current.used_at || current.expires_at.getTime() <= this.clock.now()) {
        return 'spent' as const;
      }
      const accepted = recovery
        ? await this.acceptRecoveryCode(manager, locked, code)
        : await this.acceptCode(manager, locked, code);
      if (!accepted) {
        await manager.query(
          `UPDATE mfa_challenges SET failures = failures + 1,
             used_at = CASE WHEN failures + 1 >= $2 THEN $3::timestamptz ELSE used_at END
           WHERE token_hash = $1`,
          [hash(mfaToken), CHALLENGE_MAX_FAILURES, new Date(this.clock.now())],
        );
        return 'bad_code' as const;
      }
      await manager.query('UPDATE mfa_challenges SET used_at = $2 WHERE token_hash = $1', [
        hash(mfaToken),
        new Date(this.clock.now()),
      ]);
      return accepted;
    });
    if (outcome === 'spent' || outcome === 'bad_code') {
      this.audit.record('login_mfa', 'failure', {
        userId: challenge.identity_id,
        reason: outcome === 'spent' ? 'challenge_used' : 'bad_code',
      });
      throw refused();
    }
    const identity = outcome;
    if (recovery) {
      this.audit.record('mfa_recovery_codes', 'success', {
        userId: identity.id,
        reason: 'used',
      });
    }
    await this.limiter.reset(challenge.identity_id, this.rules.mfaAccount);
    return identity;
  }

  /**
   * Uses up one of the user's recovery codes in place of a TOTP code. Only while TOTP is
   * active: an admin reset removes the factor, and its codes with it. `identity` is the row
   * the caller locked.
   */
  private async acceptRecoveryCode(
    manager: EntityManager,
    identity: Identity | null,
    code: string,
  ) {
    if (!identity || identity.disabled || !identity.totpSecret) return null;
    return (await this.recoveryCodes.consume(manager, identity.id, code)) ? identity : null;
  }

  /**
   * Checks `code` against the user's confirmed secret and records its time step, so the same
   * code (or an older one) is never accepted twice (RFC 6238 §5.2). `identity` is the row the
   * caller locked (pessimistic_write) in this transaction.
   */
  async acceptCode(
    manager: EntityManager,
    identity: Identity | null,
    code: string,
    pending = false,
  ) {
    const sealed = pending ? identity?.totpPendingSecret : identity?.totpSecret;
    if (!identity || identity.disabled || !sealed) return null;
    const secret = this.encryption.decrypt(sealed, `totp:${identity.id}`);
    const step = matchTotpStep(secret, code, this.clock.now());
    if (step === null || step <= identity.totpLastStep) return null;
    await manager.update(Identity, { id: identity.id }, { totpLastStep: step });
    return { ...identity, totpLastStep: step } as Identity;
  }
}
