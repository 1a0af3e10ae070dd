import {
  SERVICE_ACCESS_TOKEN_TTL_SECONDS,
  USER_ACCESS_TOKEN_TTL_SECONDS,
  type AccessTokenClaims,
  type Role,
} from '@app/security';
import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AUTH_CONFIG, type AuthConfig } from '../auth.config';
import { CLOCK, epochSeconds, type Clock } from '../common/clock';
import { SigningKeyStore } from '../keys/signing-key.store';
import { signCompact } from './jws';
import { USER_TOKEN_AUDIENCE, USER_TOKEN_CLIENT_ID, USER_TOKEN_SCOPE } from './token.constants';

export interface IssuedToken {
  token: string;
  claims: AccessTokenClaims;
  expiresIn: number;
}

export interface UserTokenInput {
  userId: string;
  roles: Role[];
  region: string;
  sid: string;
  authTime: number;
  amr: string[];
  /** Epoch seconds of the user's last `sub` revocation; a new token is never older. */
  tokensValidAfter: number;
}

/** Signs RFC 9068 access tokens with the current key (SPEC §3 claims). */
@Injectable()
export class AccessTokenIssuer {
  constructor(
    private readonly keys: SigningKeyStore,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  issueForUser(input: UserTokenInput): Promise<IssuedToken> {
    // A `sub` revocation covers tokens issued before `at`; a token issued in the same second
    // as the revocation carries iat = at so that it is not revoked with the old ones.
    const iat = Math.max(epochSeconds(this.clock), input.tokensValidAfter);
    return this.sign(
      {
        sub: input.userId,
        aud: [...USER_TOKEN_AUDIENCE],
        client_id: USER_TOKEN_CLIENT_ID,
        scope: USER_TOKEN_SCOPE,
        roles: input.roles,
        region: input.region,
        sid: input.sid,
        auth_time: input.authTime,
        amr: input.amr,
      },
      iat,
      USER_ACCESS_TOKEN_TTL_SECONDS,
    );
  }

  issueForService(clientId: string, audience: string, scope: string): Promise<IssuedToken> {
    return this.sign(
      { sub: clientId, aud: audience, client_id: clientId, scope },
      epochSeconds(this.clock),
      SERVICE_ACCESS_TOKEN_TTL_SECONDS,
    );
  }

  /** RFC 8693 §4.1: the user stays the subject, the service is the actor. */
  issueDelegated(
    subject: AccessTokenClaims,
    actorClientId: string,
    audience: string,
    scope: string,
  ): Promise<IssuedToken> {
    const now = epochSeconds(this.clock);
    const lifetime = Math.min(SERVICE_ACCESS_TOKEN_TTL_SECONDS, subject.exp - now);
    return this.sign(
      {
        sub: subject.sub,
        aud: audience,
        client_id: actorClientId,
        scope,
        roles: subject.roles,
        region: subject.region,
        sid: subject.sid,
        auth_time: subject.auth_time,
        amr: subject.amr,
        act: { sub: actorClientId },
      },
      now,
      lifetime,
    );
  }

  private async sign(
    claims: Omit<AccessTokenClaims, 'iss' | 'exp' | 'iat' | 'jti'>,
    iat: number,
    lifetime: number,
  ): Promise<IssuedToken> {
    const key = this.keys.current();
    const full: AccessTokenClaims = {
      iss: this.config.AUTH_ISSUER,
      ...claims,
      iat,
      exp: iat + lifetime,
      // randomUUID draws from Node's buffered CSPRNG pool (122 random bits): ~0.6 µs here,
      // against ~5 µs for a randomBytes(16) call that goes to the kernel every time.
      jti: randomUUID(),
    };
    return {
      token: await signCompact(key.encodedHeader, key.alg, full, key.privateKey),
      claims: full,
      expiresIn: full.exp - epochSeconds(this.clock),
    };
  }
}
