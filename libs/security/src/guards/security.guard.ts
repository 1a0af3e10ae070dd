import {
  EVENTS_AUDIENCE,
  EVENTS_PUBLISH_SCOPE,
  publisherOf,
} from '../contract/access-token.claims';
import { JetStreamContext, Public } from '@app/platform';
import type { Metadata } from '@grpc/grpc-js';
import {
  Inject,
  Injectable,
  Logger,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AbilityFactory } from '../casl/policy';
import { checksSubject, POLICY_HANDLERS } from '../decorators/policy-handlers';
import { RECENT_AUTH_MAX_AGE } from '../decorators/require-recent-auth.decorator';
import { REQUIRED_SCOPES } from '../decorators/scopes.decorator';
import { HTTP_AUTHENTICATOR, SECURITY_OPTIONS } from '../security.constants';
import { SecurityError } from '../security.error';
import type { ResolvedSecurityOptions } from '../security.options';
import type { Principal } from '../token/principal';
import { TokenVerifier } from '../token/token-verifier';
import { toEdgeError } from '../transport/edge-error';
import { bearerToken, transportOf, type Transport } from '../transport/transport-of';
import { rememberPrincipal } from './principal-store';

type Targets = [
  ReturnType<ExecutionContext['getHandler']>,
  ReturnType<ExecutionContext['getClass']>,
];

/**
 * The global guard (APP_GUARD): every HTTP route, gRPC method and NATS handler is denied
 * unless it is `@Public()` or the caller presents a valid access token and passes the
 * handler's `@Scopes`, `@RequireRecentAuth` and `@CheckPolicies`.
 */
@Injectable()
export class SecurityGuard implements CanActivate {
  private readonly logger = new Logger('Security');

  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
    private readonly abilities: AbilityFactory,
    @Inject(SECURITY_OPTIONS) private readonly options: ResolvedSecurityOptions,
    @Inject(HTTP_AUTHENTICATOR) private readonly http: CanActivate,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets: Targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride(Public, targets)) return true;
    const transport = transportOf(context);
    try {
      const principal = await this.authenticate(context, transport);
      const ability = () => this.abilities.for(principal);
      rememberPrincipal(context, { principal, ability });
      this.authorize(targets, principal, ability);
      return true;
    } catch (error) {
      if (error instanceof SecurityError) {
        this.logger.debug({ code: error.code, transport }, 'request refused');
      }
      throw toEdgeError(error, transport, this.options.audience);
    }
  }

  private async authenticate(context: ExecutionContext, transport: Transport): Promise<Principal> {
    switch (transport) {
      case 'http': {
        await this.http.canActivate(context);
        return context.switchToHttp().getRequest<{ user: Principal }>().user;
      }
      case 'grpc': {
        const values = context.switchToRpc().getContext<Metadata>().get('authorization');
        // Exactly one authorization entry: two would let a proxy and the service disagree.
        const token = values.length === 1 ? bearerToken(values[0]) : undefined;
        if (!token) throw new SecurityError('TOKEN_MISSING', 'an access token is required');
        const options = { audience: this.options.audience };
        return (
          this.verifier.verifyCached(token, options) ?? (await this.verifier.verify(token, options))
        ).principal;
      }
      case 'nats':
        return this.authenticateMessage(context.switchToRpc().getContext<JetStreamContext>());
      default:
        throw new SecurityError('TOKEN_MISSING', 'unsupported transport');
    }
  }

  /**
   * SPEC §5: a message is valid if its token was valid when the broker stored it, was issued
   * for events with scope events:publish, and its client owns the subject's prefix.
   */
  private async authenticateMessage(message: JetStreamContext): Promise<Principal> {
    const token = bearerToken(message.getHeader('Authorization'));
    if (!token) throw new SecurityError('TOKEN_MISSING', 'message has no Authorization header');
    const { principal } = await this.verifier.verify(token, {
      audience: EVENTS_AUDIENCE,
      currentDate: message.getStoredAt(),
    });
    if (principal.kind !== 'service') {
      throw new SecurityError('PUBLISHER_NOT_ALLOWED', 'events are published by services only');
    }
    if (!principal.scopes.includes(EVENTS_PUBLISH_SCOPE)) {
      throw new SecurityError('INSUFFICIENT_SCOPE', `scope ${EVENTS_PUBLISH_SCOPE} is required`, {
        scopes: [EVENTS_PUBLISH_SCOPE],
      });
    }
    if (publisherOf(message.getSubject()) !== principal.clientId) {
      throw new SecurityError(
        'PUBLISHER_NOT_ALLOWED',
        `client ${principal.clientId} may not publish ${message.getSubject()}`,
      );
    }
    return principal;
  }

  private authorize(
    targets: Targets,
    principal: Principal,
    ability: () => ReturnType<AbilityFactory['for']>,
  ): void {
    const scopes = this.reflector.getAllAndMerge(REQUIRED_SCOPES, targets) ?? [];
    const missing = scopes.filter((scope) => !principal.scopes.includes(scope));
    if (missing.length > 0) {
      throw new SecurityError('INSUFFICIENT_SCOPE', `scope ${missing.join(' ')} is required`, {
        scopes: missing,
      });
    }
    const maxAge = this.reflector.getAllAndOverride(RECENT_AUTH_MAX_AGE, targets);
    if (maxAge !== undefined) this.checkRecentAuth(principal, maxAge);
    const policies = this.reflector.getAllAndMerge(POLICY_HANDLERS, targets) ?? [];
    for (const policy of policies) {
      if (!checksSubject(policy) && !(policy as (a: unknown) => boolean)(ability())) {
        throw new SecurityError('FORBIDDEN', 'not allowed');
      }
    }
  }

  /** RFC 9470 §3: authenticated too long ago for this operation. */
  private checkRecentAuth(principal: Principal, maxAgeSeconds: number): void {
    if (principal.kind === 'service') {
      throw new SecurityError('FORBIDDEN', 'this operation needs a user');
    }
    const age = Date.now() / 1000 - (principal.authTime ?? 0);
    if (principal.authTime === undefined || age > maxAgeSeconds) {
      throw new SecurityError(
        'INSUFFICIENT_USER_AUTHENTICATION',
        'a more recent authentication is required',
        { maxAgeSeconds },
      );
    }
  }
}
