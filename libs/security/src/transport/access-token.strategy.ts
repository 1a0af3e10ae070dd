import { AuthGuard, PassportStrategy } from '@nestjs/passport';
import type { CanActivate, ExecutionContext, Type } from '@nestjs/common';
import { ExtractJwt, Strategy as JwtStrategy } from 'passport-jwt';
import { SecurityError } from '../security.error';
import type { Principal } from '../token/principal';
import type { TokenVerifier } from '../token/token-verifier';

type Done = (error: unknown, user?: unknown) => void;

/**
 * passport-jwt at the HTTP edge, with ONE verifier deciding. passport-jwt's own verification
 * (jsonwebtoken with a static key) is not used: `authenticate` takes the token with
 * passport-jwt's `fromAuthHeaderAsBearerToken` extractor (the Authorization header only,
 * never a query string or body) and hands it to the same `TokenVerifier` the gRPC and NATS
 * guards use, so a rule holds on every transport or on none.
 */
class VerifierBackedJwtStrategy extends JwtStrategy {
  private readonly extract = ExtractJwt.fromAuthHeaderAsBearerToken();
  private readonly verifyCallback: (principal: Principal, done: Done) => void;

  constructor(
    private readonly verifier: TokenVerifier,
    private readonly audience: string,
    verify: (principal: Principal, done: Done) => void,
  ) {
    super(
      {
        jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
        secretOrKeyProvider: (_request, _token, done) =>
          done(new Error('passport-jwt verification is not used; TokenVerifier decides')),
      },
      verify,
    );
    this.verifyCallback = verify;
  }

  override authenticate(request: Parameters<JwtStrategy['authenticate']>[0]): void {
    const token = this.extract(request);
    if (!token) {
      this.fail(new SecurityError('TOKEN_MISSING', 'an access token is required'), 401);
      return;
    }
    const accept = ({ principal }: { principal: Principal }) =>
      this.verifyCallback(principal, (error, user) =>
        error ? this.error(error as Error) : this.success(user as Principal),
      );
    const refuse = (error: unknown) =>
      error instanceof SecurityError ? this.fail(error, 401) : this.error(error as Error);
    let cached;
    try {
      cached = this.verifier.verifyCached(token, { audience: this.audience });
    } catch (error) {
      return refuse(error);
    }
    if (cached) return accept(cached);
    this.verifier.verify(token, { audience: this.audience }).then(accept, refuse);
  }
}

let instances = 0;

/**
 * A passport strategy and the matching `AuthGuard` for one `SecurityModule`. Passport keeps
 * strategies in one global registry by name, so each module gets its own name: two services
 * (or a test with two apps) in one process never verify with each other's audience.
 */
export function createHttpAuthentication(): {
  Strategy: new (verifier: TokenVerifier, audience: string) => object;
  Guard: Type<CanActivate>;
} {
  const name = `access-token#${++instances}`;

  class AccessTokenStrategy extends PassportStrategy(VerifierBackedJwtStrategy, name) {
    validate(principal: Principal): Principal {
      return principal;
    }
  }

  class HttpAuthenticator extends AuthGuard(name) {
    override handleRequest<T>(error: unknown, user: T, info: unknown): T {
      if (error) throw error;
      if (user) return user;
      throw info instanceof SecurityError
        ? info
        : new SecurityError('TOKEN_MISSING', 'an access token is required');
    }

    override canActivate(context: ExecutionContext): Promise<boolean> {
      return super.canActivate(context) as Promise<boolean>;
    }
  }

  return {
    Strategy: AccessTokenStrategy as unknown as new (
      verifier: TokenVerifier,
      audience: string,
    ) => object,
    Guard: HttpAuthenticator,
  };
}
