import { PassportStrategy } from '@nestjs/passport';
import passport from 'passport';
import { Strategy as JwtStrategy, type JwtFromRequestFunction } from 'passport-jwt';
import { SecurityError } from '../security.error';
import type { Principal } from '../token/principal';
import type { TokenVerifier } from '../token/token-verifier';
import { httpBearerToken, type HttpRequestHeaders } from './transport-of';

/**
 * passport-jwt's extractor contract, with the rule every transport applies (`httpBearerToken`).
 * passport-jwt's `fromAuthHeaderAsBearerToken` took the first two words of the header, so
 * `Bearer <token> anything` passed over HTTP while gRPC refused it.
 */
const fromAuthorizationHeader: JwtFromRequestFunction = (request) =>
  httpBearerToken(request as HttpRequestHeaders) ?? null;

/**
 * passport-jwt at the HTTP edge, with ONE verifier deciding. passport-jwt's own verification
 * (jsonwebtoken with a static key) is not used: `authenticate` takes the token with the
 * `fromAuthorizationHeader` extractor and hands it to the same `TokenVerifier` the gRPC and NATS
 * guards use, so a rule holds on every transport or on none.
 *
 * The strategy reports `success` itself rather than through a `validate()` callback: the
 * verifier already checked everything a `validate()` would, and @nestjs/passport's callback
 * is async, which would cost every request a promise. A token whose signature was verified
 * before is answered synchronously (time, audience and deny-list still checked).
 */
class VerifierBackedJwtStrategy extends JwtStrategy {
  private readonly extract = fromAuthorizationHeader;

  constructor(
    private readonly verifier: TokenVerifier,
    private readonly audience: string,
    verify: (...args: unknown[]) => void,
  ) {
    super(
      {
        jwtFromRequest: fromAuthorizationHeader,
        secretOrKeyProvider: (_request, _token, done) =>
          done(new Error('passport-jwt verification is not used; TokenVerifier decides')),
      },
      verify,
    );
  }

  override authenticate(request: Parameters<JwtStrategy['authenticate']>[0]): void {
    const token = this.extract(request);
    if (!token) {
      this.fail(new SecurityError('TOKEN_MISSING', 'an access token is required'), 401);
      return;
    }
    const refuse = (error: unknown) =>
      error instanceof SecurityError ? this.fail(error, 401) : this.error(error as Error);
    let cached;
    try {
      cached = this.verifier.verifyCached(token, { audience: this.audience });
    } catch (error) {
      return refuse(error);
    }
    if (cached) return this.success(cached.principal);
    this.verifier
      .verify(token, { audience: this.audience })
      .then(({ principal }) => this.success(principal), refuse);
  }
}

/** Authenticates one HTTP request; a value when passport finished synchronously, else a promise. */
export interface HttpAuthenticator {
  authenticate(request: object, response: object): Principal | Promise<Principal>;
}

type Outcome = { principal: Principal } | { error: unknown };

/**
 * Runs `passport.authenticate` with this module's strategy. Unlike @nestjs/passport's
 * `AuthGuard` (two awaits and a promise per request), it returns the principal directly when
 * the strategy decided synchronously, which is the case for every token seen before.
 */
class PassportAuthenticator implements HttpAuthenticator {
  constructor(private readonly strategyName: string) {}

  authenticate(request: object, response: object): Principal | Promise<Principal> {
    let outcome: Outcome | undefined;
    let settle: ((outcome: Outcome) => void) | undefined;
    const finish = (result: Outcome) => (settle ? settle(result) : (outcome = result));
    const middleware = passport.authenticate(
      this.strategyName,
      { session: false },
      (error: unknown, user: Principal | false, info: unknown) =>
        finish(error ? { error } : user ? { principal: user } : { error: refusal(info) }),
    ) as (request: object, response: object, next: (error?: unknown) => void) => void;
    // `next` is only called by strategies that pass or redirect; this one never does.
    middleware(request, response, (error) => finish({ error: error ?? refusal(undefined) }));
    if (outcome) return unwrap(outcome);
    return new Promise<Outcome>((resolve) => (settle = resolve)).then(unwrap);
  }
}

function refusal(info: unknown): SecurityError {
  return info instanceof SecurityError
    ? info
    : new SecurityError('TOKEN_MISSING', 'an access token is required');
}

function unwrap(outcome: Outcome): Principal {
  if ('error' in outcome) throw outcome.error;
  return outcome.principal;
}

let instances = 0;

/**
 * A passport strategy (registered through @nestjs/passport's `PassportStrategy`) and the
 * authenticator that runs it, for one `SecurityModule`. Passport keeps strategies in one
 * global registry by name, so each module gets its own name: two services (or a test with two
 * apps) in one process never verify with each other's audience.
 */
export function createHttpAuthentication(): {
  Strategy: new (verifier: TokenVerifier, audience: string) => object;
  authenticator: HttpAuthenticator;
} {
  const name = `access-token#${++instances}`;

  class AccessTokenStrategy extends PassportStrategy(VerifierBackedJwtStrategy, name) {
    /** Not called: the strategy reports success itself (see VerifierBackedJwtStrategy). */
    validate(): never {
      throw new Error('AccessTokenStrategy.validate is not used');
    }
  }

  return {
    Strategy: AccessTokenStrategy as unknown as new (
      verifier: TokenVerifier,
      audience: string,
    ) => object,
    authenticator: new PassportAuthenticator(name),
  };
}
