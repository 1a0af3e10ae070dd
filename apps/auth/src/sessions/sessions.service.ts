import { ApiError, assertAllowed, clientNetwork, RateLimiter } from '@app/platform';
import type { AccessTokenClaims } from '@app/security';
import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { CLOCK, epochSeconds, type Clock } from '../common/clock';
import { IdentitiesService, normalizeEmail } from '../identities/identities.service';
import type { Identity } from '../identities/identity.entity';
import { PasswordHasher } from '../identities/password-hasher';
import { MfaChallengeService } from '../mfa/mfa-challenge.service';
import { LIMIT_RULES, type LimitRules } from '../rate-limit/limit-rules';
import { AccessTokenIssuer } from '../tokens/access-token.issuer';
import { RefreshTokenFamily, type IssuedRefreshToken } from './refresh-token-family';

export interface SessionTokens {
  body: { accessToken: string; tokenType: 'Bearer'; expiresIn: number };
  refresh: IssuedRefreshToken;
}

export type LoginOutcome =
  { mfaRequired: false; tokens: SessionTokens } | { mfaRequired: true; mfaToken: string };

/** One message for every failed login, whether or not the account exists (SPEC §4). */
const loginFailed = () => new ApiError(401, 'invalid email or password');

@Injectable()
export class SessionsService {
  constructor(
    private readonly identities: IdentitiesService,
    private readonly hasher: PasswordHasher,
    private readonly families: RefreshTokenFamily,
    private readonly issuer: AccessTokenIssuer,
    private readonly mfa: MfaChallengeService,
    private readonly limiter: RateLimiter,
    private readonly audit: AuditService,
    @Inject(LIMIT_RULES) private readonly rules: LimitRules,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async login(email: string, password: string, ip: string): Promise<LoginOutcome> {
    const account = normalizeEmail(email);
    assertAllowed(await this.limiter.consume(clientNetwork(ip), this.rules.loginIp));
    // Counted before the password is checked, and cleared only by a success: counting after
    // the check let parallel guesses all pass a check that saw none of them.
    assertAllowed(await this.limiter.consume(account, this.rules.loginAccount));
    const identity = await this.identities.findByEmail(account);
    // Unknown accounts verify against a dummy hash: same work, same answer, same time.
    const valid = await this.hasher.verify(identity?.passwordHash, password);
    if (!valid || !identity || identity.disabled) {
      this.audit.record('login', 'failure', {
        userId: identity?.id,
        ip,
        reason: 'bad_credentials',
      });
      throw loginFailed();
    }
    await this.limiter.reset(account, this.rules.loginAccount);
    if (this.hasher.needsRehash(identity.passwordHash))
      await this.identities.rehash(identity, password);
    if (identity.totpSecret) {
      const mfaToken = await this.mfa.createChallenge(identity.id, identity.tokensValidAfter);
      // The password changed (or the account was disabled) during the login.
      if (!mfaToken) throw loginFailed();
      this.audit.record('login', 'success', { userId: identity.id, ip, reason: 'mfa_required' });
      return { mfaRequired: true, mfaToken };
    }
    this.audit.record('login', 'success', { userId: identity.id, ip });
    return { mfaRequired: false, tokens: await this.startSession(identity, ['pwd']) };
  }

  async loginMfa(mfaToken: string, code: string, ip: string): Promise<SessionTokens> {
    const identity = await this.mfa.redeemChallenge(mfaToken, code);
    this.audit.record('login_mfa', 'success', { userId: identity.id, ip });
    // RFC 8176: pwd + otp, and mfa because two factors were used.
    return this.startSession(identity, ['pwd', 'otp', 'mfa']);
  }

  async refresh(token: string): Promise<SessionTokens> {
    const { session, refresh } = await this.families.rotate(token);
    const identity = await this.identities.findById(session.identityId);
    if (!identity || identity.disabled) {
      throw new ApiError(401, 'refresh token is invalid or expired');
    }
    this.audit.record('refresh', 'success', { userId: identity.id, sid: session.sid });
    return {
      body: await this.accessTokenFor(identity, session.sid, session.authTime, session.amr),
      refresh,
    };
  }

  async logout(token: string | undefined): Promise<void> {
    if (!token) return;
    const sid = await this.families.revokeByToken(token);
    if (sid) this.audit.record('logout', 'success', { sid });
  }

  async changePassword(
    principal: AccessTokenClaims,
    currentPassword: string,
    newPassword: string,
  ): Promise<void> {
    const identity = await this.identities.findById(principal.sub);
    if (!identity) throw new ApiError(401, 'unknown user');
    // Guessing through this endpoint counts against the same per-account limit as login.
    assertAllowed(await this.limiter.consume(identity.email, this.rules.loginAccount));
    if (!(await this.hasher.verify(identity.passwordHash, currentPassword))) {
      this.audit.record('password_change', 'failure', {
        userId: identity.id,
        reason: 'bad_password',
      });
      throw new ApiError(403, 'current password is wrong');
    }
    await this.limiter.reset(identity.email, this.rules.loginAccount);
    await this.identities.changePassword(identity, newPassword, principal.sid);
    this.audit.record('password_change', 'success', { userId: identity.id });
  }

  private async startSession(identity: Identity, amr: string[]): Promise<SessionTokens> {
    const authTime = epochSeconds(this.clock);
    const started = await this.families.start(
      identity.id,
      amr,
      authTime,
      identity.tokensValidAfter,
    );
    // The password changed (or the account was disabled, its roles changed) during the login.
    if (!started) throw new ApiError(401, 'the account changed during the login; log in again');
    const { sid, refresh } = started;
    return { body: await this.accessTokenFor(identity, sid, authTime, amr), refresh };
  }

  private async accessTokenFor(identity: Identity, sid: string, authTime: number, amr: string[]) {
    const issued = await this.issuer.issueForUser({
      userId: identity.id,
      roles: identity.roles as AccessTokenClaims['roles'] & string[],
      region: identity.region,
      sid,
      authTime,
      amr,
      tokensValidAfter: identity.tokensValidAfter,
    });
    return { accessToken: issued.token, tokenType: 'Bearer' as const, expiresIn: issued.expiresIn };
  }
}
