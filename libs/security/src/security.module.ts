import { MESSAGE_HEADERS_PROVIDER, NatsConnectionService, ReadinessService } from '@app/platform';
import { Logger, Module, type DynamicModule, type Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AbilityFactory } from './casl/policy';
import { SecurityGuard } from './guards/security.guard';
import { HTTP_AUTHENTICATOR, HTTP_STRATEGY, SECURITY_OPTIONS } from './security.constants';
import {
  ASYNC_OPTIONS_TYPE,
  ConfigurableSecurityModule,
  OPTIONS_TYPE,
  SECURITY_MODULE_OPTIONS,
} from './security.module-definition';
import { resolveSecurityOptions, type ResolvedSecurityOptions } from './security.options';
import { issuerKeys } from './token/issuer-keys';
import { retiredIssuerKeys } from './token/retired-keys';
import { RevocationList } from './token/revocation-list';
import { ServiceTokenClient } from './token/service-token.client';
import { TokenVerifier } from './token/token-verifier';
import { createHttpAuthentication } from './transport/access-token.strategy';
import { EventsHeadersProvider } from './transport/events-headers.provider';
import { RevocationListener } from './transport/revocation.listener';
import { SecureEventPublisher } from './transport/secure-event.publisher';

function securityProviders(): Provider[] {
  const http = createHttpAuthentication();
  return [
    {
      provide: SECURITY_OPTIONS,
      inject: [SECURITY_MODULE_OPTIONS],
      useFactory: resolveSecurityOptions,
    },
    { provide: RevocationList, useFactory: () => new RevocationList() },
    {
      provide: TokenVerifier,
      inject: [SECURITY_OPTIONS, RevocationList],
      useFactory: (options: ResolvedSecurityOptions, revocations: RevocationList) =>
        new TokenVerifier(
          {
            issuer: options.issuer,
            algorithms: options.algorithms,
            clockToleranceSeconds: options.clockToleranceSeconds,
            cacheSize: options.verificationCacheSize,
          },
          issuerKeys({
            jwksUri: options.jwksUri,
            cooldownMs: options.jwksCooldownMs,
            maxAgeMs: 10 * 60_000,
            timeoutMs: 5000,
          }),
          revocations,
          retiredIssuerKeys({
            jwksUri: options.retiredJwksUri,
            cooldownMs: options.jwksCooldownMs,
            maxAgeMs: 10 * 60_000,
            timeoutMs: 5000,
          }),
        ),
    },
    {
      provide: AbilityFactory,
      inject: [SECURITY_OPTIONS],
      useFactory: (options: ResolvedSecurityOptions) => new AbilityFactory(options.policies),
    },
    {
      provide: ServiceTokenClient,
      inject: [SECURITY_OPTIONS],
      useFactory: (options: ResolvedSecurityOptions) =>
        new ServiceTokenClient({ tokenEndpoint: options.tokenEndpoint, client: options.client }),
    },
    {
      provide: EventsHeadersProvider,
      inject: [ServiceTokenClient],
      useFactory: (tokens: ServiceTokenClient) => new EventsHeadersProvider(tokens),
    },
    { provide: MESSAGE_HEADERS_PROVIDER, useExisting: EventsHeadersProvider },
    {
      provide: SecureEventPublisher,
      inject: [{ token: NatsConnectionService, optional: true }, EventsHeadersProvider],
      useFactory: (nats: NatsConnectionService | undefined, headers: EventsHeadersProvider) =>
        nats ? new SecureEventPublisher(nats, headers) : null,
    },
    {
      provide: RevocationListener,
      inject: [
        SECURITY_OPTIONS,
        { token: NatsConnectionService, optional: true },
        TokenVerifier,
        RevocationList,
        { token: ReadinessService, optional: true },
      ],
      useFactory: (
        options: ResolvedSecurityOptions,
        nats: NatsConnectionService | undefined,
        verifier: TokenVerifier,
        revocations: RevocationList,
        readiness: ReadinessService | undefined,
      ) => {
        if (!options.revocations) {
          new Logger('Security').warn('revocations disabled: revoked tokens stay valid until exp');
          return null;
        }
        if (!nats) {
          throw new TypeError(
            'SecurityModule: options.revocations needs MessagingModule (NATS); import it or set revocations: false',
          );
        }
        return new RevocationListener(nats, verifier, revocations, readiness);
      },
    },
    {
      provide: HTTP_STRATEGY,
      inject: [TokenVerifier, SECURITY_OPTIONS],
      useFactory: (verifier: TokenVerifier, options: ResolvedSecurityOptions) =>
        new http.Strategy(verifier, options.audience),
    },
    // Depends on the strategy so that it is registered with passport before the first request.
    { provide: HTTP_AUTHENTICATOR, inject: [HTTP_STRATEGY], useFactory: () => http.authenticator },
    { provide: APP_GUARD, useClass: SecurityGuard },
  ];
}

const EXPORTS = [
  SECURITY_OPTIONS,
  TokenVerifier,
  RevocationList,
  AbilityFactory,
  ServiceTokenClient,
  EventsHeadersProvider,
  MESSAGE_HEADERS_PROVIDER,
  SecureEventPublisher,
];

/**
 * Authentication and authorization of every caller over HTTP, gRPC and NATS: a global
 * deny-by-default guard, one token verifier, the revocation deny-list, CASL policies and this
 * service's own tokens for outgoing calls and events. Global: import it once, in the root module.
 *
 * @example
 * SecurityModule.forRoot({
 *   issuer: env.AUTH_ISSUER,      // JWKS at `${issuer}/.well-known/jwks.json`
 *   audience: 'inventory',        // tokens for other services are refused
 *   client: { id: env.CLIENT_ID, secret: env.CLIENT_SECRET },
 *   policies: [InventoryPolicy],
 * })
 */
@Module({})
export class SecurityModule extends ConfigurableSecurityModule {
  static override forRoot(options: typeof OPTIONS_TYPE): DynamicModule {
    // Fail at the call site, with the option's name, rather than while Nest resolves providers.
    resolveSecurityOptions(options);
    return SecurityModule.extend(super.forRoot(options));
  }

  static override forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return SecurityModule.extend(super.forRootAsync(options));
  }

  private static extend(definition: DynamicModule): DynamicModule {
    return {
      ...definition,
      providers: [...(definition.providers ?? []), ...securityProviders()],
      exports: [...(definition.exports ?? []), ...EXPORTS],
    };
  }
}
