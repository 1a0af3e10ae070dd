import {
  DatabaseModule,
  MESSAGE_HEADERS_PROVIDER,
  MessagingModule,
  PlatformModule,
  RateLimitModule,
} from '@app/platform';
import { TokenVerifier } from '@app/security';
import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AccessTokenGuard } from './access/access-token.guard';
import { ownTokenVerifier } from './access/own-token-verifier';
import { EventTokenGuard } from './access/event-token.guard';
import { RoleGuard } from './access/role.guard';
import { AdminBootstrapService } from './admin/admin-bootstrap.service';
import { AdminHttpController } from './admin/admin.http.controller';
import { AuditService } from './audit/audit.service';
import { AUTH_CONFIG, type AuthConfig } from './auth.config';
import { ClientSecretHasher } from './clients/client-secret.hasher';
import { ClientsService } from './clients/clients.service';
import { CLOCK, systemClock, type Clock } from './common/clock';
import { AUTH_RETENTION, authDataSourceOptions } from './database/auth-data-source';
import { EventTokenHeadersProvider } from './events/event-token.headers-provider';
import { UsersEventsController } from './events/users.events.controller';
import { IdentitiesHttpController } from './identities/identities.http.controller';
import { IdentitiesService } from './identities/identities.service';
import { PasswordHasher } from './identities/password-hasher';
import { PASSWORD_POLICY, PasswordPolicy } from './identities/password-policy';
import { JwksHttpController } from './keys/jwks.http.controller';
import { KeyEncryption } from './keys/key-encryption';
import { KeyRotationScheduler } from './keys/key-rotation.scheduler';
import { KeyResealer } from './keys/key-resealer';
import { SigningKeyStore } from './keys/signing-key.store';
import { MfaChallengeService } from './mfa/mfa-challenge.service';
import { MfaHttpController } from './mfa/mfa.http.controller';
import { RecoveryCodes } from './mfa/recovery-codes';
import { TotpEnrolmentService } from './mfa/totp-enrolment.service';
import { ClientAuthenticator } from './oauth/client-authenticator';
import { ClientCredentialsGrant } from './oauth/grants/client-credentials.grant';
import { TokenExchangeGrant } from './oauth/grants/token-exchange.grant';
import { MetadataHttpController } from './oauth/metadata.http.controller';
import { OAuthHttpSetup } from './oauth/oauth-http.setup';
import { PrivateKeyJwtVerifier } from './oauth/private-key-jwt.verifier';
import { RevocationHttpController } from './oauth/revocation.http.controller';
import { TokenEndpoint } from './oauth/token.endpoint';
import { LIMIT_RULES, limitRules } from './rate-limit/limit-rules';
import { RevocationService } from './revocations/revocation.service';
import { RefreshTokenFamily } from './sessions/refresh-token-family';
import { SameSiteRequestGuard } from './sessions/same-site-request.guard';
import { SessionsHttpController } from './sessions/sessions.http.controller';
import { SessionsService } from './sessions/sessions.service';
import { AccessTokenIssuer } from './tokens/access-token.issuer';
import { AccessTokenVerifier } from './tokens/access-token.verifier';

export interface AuthModuleOverrides {
  /** Tests freeze or move time with their own clock. */
  clock?: Clock;
}

@Module({})
export class AuthModule {
  static forRoot(config: AuthConfig, overrides: AuthModuleOverrides = {}): DynamicModule {
    const clock = overrides.clock ?? systemClock;
    return {
      module: AuthModule,
      // Global so that the outbox relay (MessagingModule) finds MESSAGE_HEADERS_PROVIDER.
      global: true,
      imports: [
        PlatformModule.forRoot({
          serviceName: 'auth',
          logLevel: config.LOG_LEVEL,
          metricsToken: config.METRICS_TOKEN,
          metricsTokenPrevious: config.METRICS_TOKEN_PREVIOUS,
        }),
        DatabaseModule.forRoot(authDataSourceOptions(config.DATABASE_URL), {
          retention: AUTH_RETENTION,
        }),
        MessagingModule.forRoot({
          serviceName: 'auth',
          url: config.NATS_URL,
          user: config.NATS_USER,
          password: config.NATS_PASSWORD,
          caFile: config.NATS_CA_FILE,
          ownStreams: ['AUTH'],
          consumers: [
            { stream: 'USERS', durable: 'auth-users-deleted', filterSubject: 'users.deleted' },
          ],
        }),
        // Shared by every replica when REDIS_URL is set (SPEC §7); the rules are in limit-rules.ts.
        RateLimitModule.forRoot({ redisUrl: config.REDIS_URL, keyPrefix: 'auth:rl:', clock }),
      ],
      controllers: [
        IdentitiesHttpController,
        SessionsHttpController,
        MfaHttpController,
        RevocationHttpController,
        MetadataHttpController,
        JwksHttpController,
        AdminHttpController,
        UsersEventsController,
      ],
      providers: [
        { provide: AUTH_CONFIG, useValue: config },
        { provide: CLOCK, useValue: clock },
        { provide: KeyEncryption, useFactory: () => KeyEncryption.fromConfig(config) },
        KeyResealer,
        {
          provide: PASSWORD_POLICY,
          useFactory: () => PasswordPolicy.load(config.COMMON_PASSWORDS_FILE),
        },
        { provide: LIMIT_RULES, useValue: limitRules(config) },
        {
          provide: TokenVerifier,
          inject: [SigningKeyStore],
          useFactory: (keys: SigningKeyStore) => ownTokenVerifier(keys, config),
        },
        { provide: APP_GUARD, useClass: AccessTokenGuard },
        { provide: APP_GUARD, useClass: EventTokenGuard },
        { provide: MESSAGE_HEADERS_PROVIDER, useExisting: EventTokenHeadersProvider },
        EventTokenHeadersProvider,
        AuditService,
        SigningKeyStore,
        KeyRotationScheduler,
        AccessTokenIssuer,
        AccessTokenVerifier,
        RevocationService,
        PasswordHasher,
        IdentitiesService,
        RefreshTokenFamily,
        SessionsService,
        SameSiteRequestGuard,
        MfaChallengeService,
        RecoveryCodes,
        TotpEnrolmentService,
        ClientSecretHasher,
        ClientsService,
        PrivateKeyJwtVerifier,
        ClientAuthenticator,
        ClientCredentialsGrant,
        TokenExchangeGrant,
        TokenEndpoint,
        OAuthHttpSetup,
        RoleGuard,
        AdminBootstrapService,
      ],
      exports: [MESSAGE_HEADERS_PROVIDER],
    };
  }
}
