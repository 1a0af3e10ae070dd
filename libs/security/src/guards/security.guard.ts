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
import { AbilityFactory, type AppAbility } from '../casl/policy';
import { checksSubject, POLICY_HANDLERS } from '../decorators/policy-handlers';
import {
  isRecentAuth,
  RECENT_AUTH_MAX_AGE,
  recentAuthMaxAgeOf,
} from '../decorators/require-recent-auth.decorator';
import { REQUIRED_SCOPES } from '../decorators/scopes.decorator';
import { HTTP_AUTHENTICATOR, SECURITY_OPTIONS } from '../security.constants';
import { SecurityError } from '../security.error';
import type { ResolvedSecurityOptions } from '../security.options';
import type { Principal } from '../token/principal';
import { storedTooLongAgo } from '../token/revocation-list';
import { TokenVerifier } from '../token/token-verifier';
import type { HttpAuthenticator } from '../transport/access-token.strategy';
import { toEdgeError } from '../transport/edge-error';
import {
  grpcBearerToken,
  messageBearerToken,
  transportOf,
  type Transport,
} from '../transport/transport-of';
import { rememberPrincipal } from './principal-store';

type Handler = ReturnType<ExecutionContext['getHandler']>;
/** Fastify's reply and Express's response both have `header(name, value)`. */
type HttpReply = { header(name: string, value: string): unknown };
const CACHE_CONTROL = 'cache-control';
const NO_STORE = 'no-store';
type ControllerClass = ReturnType<ExecutionContext['getClass']>;

/** What a route's decorators ask for, read once per handler rather than on every call. */
interface RouteRules {
  readonly isPublic: boolean;
  readonly scopes: readonly string[];
  readonly recentAuthMaxAge: number | undefined;
  /** One-parameter `@CheckPolicies` handlers, checked before the handler runs. */
  readonly policies: readonly ((ability: AppAbility) => boolean)[];
}

/**
 * The global guard (APP_GUARD): every HTTP route, gRPC method and NATS handler is denied
 * unless it is `@Public()` or the caller presents a valid access token and passes the
 * handler's `@Scopes`, `@RequireRecentAuth` and `@CheckPolicies`. A token seen before is
 * decided synchronously (no promise); a new one waits for its signature check.
 */
@Injectable()
export class SecurityGuard implements CanActivate {
  private readonly logger = new Logger('Security');
  private readonly rules = new WeakMap<ControllerClass, WeakMap<Handler, RouteRules>>();

  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
    private readonly abilities: AbilityFactory,
    @Inject(SECURITY_OPTIONS) private readonly options: ResolvedSecurityOptions,
    @Inject(HTTP_AUTHENTICATOR) private readonly http: HttpAuthenticator,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const rules = this.rulesOf(context.getClass(), context.getHandler());
    if (rules.isPublic) return true;
    const transport = transportOf(context);
    try {
      const principal = this.authenticate(context, transport);
      if (principal instanceof Promise) {
        return principal
          .then((verified) => this.admit(context, transport, rules, verified))
          .catch((error: unknown) => {
            throw this.refusal(error, transport);
          });
      }
      return this.admit(context, transport, rules, principal);
    } catch (error) {
      throw this.refusal(error, transport);
    }
  }

  /** Keeps the caller's principal for the handler and checks the route's rules; throws a SecurityError. */
  private admit(
    context: ExecutionContext,
    transport: Transport,
    rules: RouteRules,
    principal: Principal,
  ): true {
    const ability = () => this.abilities.for(principal);
    rememberPrincipal(context, { principal, ability });
    // What an authenticated caller is answered (its data, or a 403/404 about it) is for that
    // caller alone: no browser or proxy may keep it. Set before the rules are checked, so a
    // refusal carries it too; a route can still allow caching with @Header('Cache-Control', ...).
    if (transport === 'http')
      (context.getArgByIndex(1) as HttpReply).header(CACHE_CONTROL, NO_STORE);
    this.authorize(rules, principal, ability);
    return true;
  }

  private refusal(error: unknown, transport: Transport): unknown {
    if (error instanceof SecurityError) {
      this.logger.debug({ code: error.code, transport }, 'request refused');
    }
    return toEdgeError(error, transport, this.options.audience);
  }

  private rulesOf(controller: ControllerClass, handler: Handler): RouteRules {
    let byHandler = this.rules.get(controller);
    if (!byHandler) this.rules.set(controller, (byHandler = new WeakMap()));
    let rules = byHandler.get(handler);
    if (!rules) {
      const targets = [handler, controller];
      rules = Object.freeze({
        isPublic: this.isPublic(controller, handler),
        scopes: Object.freeze([...(this.reflector.getAllAndMerge(REQUIRED_SCOPES, targets) ?? [])]),
        recentAuthMaxAge: recentAuthMaxAgeOf(this.reflector, handler, controller),
        policies: Object.freeze(
          (this.reflector.getAllAndMerge(POLICY_HANDLERS, targets) ?? []).filter(
            (policy) => !checksSubject(policy),
          ) as ((ability: AppAbility) => boolean)[],
        ),
      });
      byHandler.set(handler, rules);
    }
    return rules;
  }

  /**
   * `@Public()` on the method, or on the class, unless a security requirement (`@Scopes`,
   * `@CheckPolicies`, `@RequireRecentAuth`) sits at that level or below it: a `@Public()`
   * controller must not silently open a method that asks for a scope. Such a conflict fails
   * closed (the route needs a token) and is logged once.
   */
  private isPublic(controller: ControllerClass, handler: Handler): boolean {
    const requires = (target: Handler | ControllerClass) =>
      this.reflector.get(REQUIRED_SCOPES, target) !== undefined ||
      this.reflector.get(POLICY_HANDLERS, target) !== undefined ||
      this.reflector.get(RECENT_AUTH_MAX_AGE, target) !== undefined;
    const declared = this.reflector.get(Public, handler) === true ? [handler] : [];
    if (declared.length === 0 && this.reflector.get(Public, controller) === true) {
      declared.push(handler, controller);
    }
    if (declared.length === 0) return false;
    if (!declared.some(requires)) return true;
    this.logger.warn(
      { controller: controller.name, handler: handler.name },
      '@Public() conflicts with a security requirement of the route: a token is required',
    );
    return false;
  }

  private authenticate(
    context: ExecutionContext,
    transport: Transport,
  ): Principal | Promise<Principal> {
    switch (transport) {
      case 'http':
        // The request and the reply (what switchToHttp() returns, without the three closures
        // it attaches to the context on every call).
        return this.http.authenticate(context.getArgByIndex(0), context.getArgByIndex(1));
      case 'grpc': {
        const token = grpcBearerToken(context.switchToRpc().getContext<Metadata>());
        if (!token) throw new SecurityError('TOKEN_MISSING', 'an access token is required');
        const options = { audience: this.options.audience };
        const cached = this.verifier.verifyCached(token, options);
        if (cached) return cached.principal;
        return this.verifier.verify(token, options).then(({ principal }) => principal);
      }
      case 'nats':
        return this.authenticateMessage(context.switchToRpc().getContext<JetStreamContext>());
      default:
        throw new SecurityError('TOKEN_MISSING', 'unsupported transport');
    }
  }

  /**
   * SPEC §5: a message is valid if its token was valid when the broker stored it, was issued
   * for events with scope events:publish, and its client owns the subject's prefix; and if it
   * was stored at most MAX_STORED_MESSAGE_AGE_SECONDS ago: only AUTH keeps messages longer (its
   * revocations must outlive what they refuse), and this replica's deny-list would no longer
   * know a revocation covering an older one.
   */
  private async authenticateMessage(message: JetStreamContext): Promise<Principal> {
    const token = messageBearerToken(message);
    if (!token) throw new SecurityError('TOKEN_MISSING', 'message has no Authorization header');
    const storedAt = message.getStoredAt();
    if (storedTooLongAgo(storedAt)) {
      throw new SecurityError(
        'MESSAGE_TOO_OLD',
        'message was stored too long ago: streams keep messages 7 days',
      );
    }
    const { principal } = await this.verifier.verify(token, {
      audience: EVENTS_AUDIENCE,
      currentDate: storedAt,
      allowRetiredKeys: true,
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
    rules: RouteRules,
    principal: Principal,
    ability: () => ReturnType<AbilityFactory['for']>,
  ): void {
    const missing = rules.scopes.filter((scope) => !principal.scopes.includes(scope));
    if (missing.length > 0) {
      throw new SecurityError('INSUFFICIENT_SCOPE', `scope ${missing.join(' ')} is required`, {
        scopes: missing,
      });
    }
    if (rules.recentAuthMaxAge !== undefined)
      this.checkRecentAuth(principal, rules.recentAuthMaxAge);
    for (const policy of rules.policies) {
      if (!policy(ability())) throw new SecurityError('FORBIDDEN', 'not allowed');
    }
  }

  /** RFC 9470 §3: authenticated too long ago for this operation. */
  private checkRecentAuth(principal: Principal, maxAgeSeconds: number): void {
    if (principal.kind === 'service') {
      throw new SecurityError('FORBIDDEN', 'this operation needs a user');
    }
    if (!isRecentAuth(principal.authTime, maxAgeSeconds, Date.now() / 1000)) {
      throw new SecurityError(
        'INSUFFICIENT_USER_AUTHENTICATION',
        'a more recent authentication is required',
        { maxAgeSeconds },
      );
    }
  }
}
