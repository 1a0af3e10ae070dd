import { AUTH_STREAM_MAX_AGE_MS, JetStreamContext, Public, STREAM_MAX_AGE_MS } from '@app/platform';
import { Metadata } from '@grpc/grpc-js';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { RpcException } from '@nestjs/microservices';
import { headers as natsHeaders, type JsMsg } from 'nats';
import {
  at,
  T0,
  TestIssuer,
  type RetiredTestKey,
} from '../../../../test/security/support/test-issuer';
import { AbilityFactory, type AppAbility } from '../casl/policy';
import {
  ALLOWED_ALGORITHMS,
  CLOCK_TOLERANCE_SECONDS,
  MAX_ACCESS_TOKEN_TTL_SECONDS,
} from '../contract/access-token.claims';
import { INTERCEPTORS_METADATA } from '@nestjs/common/constants';
import { CheckPolicies } from '../decorators/check-policies.decorator';
import { POLICY_HANDLERS } from '../decorators/policy-handlers';
import { RequireRecentAuth } from '../decorators/require-recent-auth.decorator';
import { Scopes } from '../decorators/scopes.decorator';
import { MAX_STORED_MESSAGE_AGE_SECONDS, RevocationList } from '../token/revocation-list';
import { TokenVerifier } from '../token/token-verifier';
import { resolveSecurityOptions } from '../security.options';
import { PoliciesInterceptor } from './policies.interceptor';
import { SecurityGuard } from './security.guard';

let issuer: TestIssuer;
let guard: SecurityGuard;
/** Retired a minute ago: its last tokens are still valid now, but only the retired set lists it. */
let retired: RetiredTestKey;
class Handlers {
  handle() {}
}

function rpc(context: unknown) {
  const host = new ExecutionContextHost([{}, context], Handlers, Handlers.prototype.handle);
  host.setType('rpc');
  return host;
}

function natsContext(subject: string, token: string | undefined, storedAt: Date) {
  const headers = natsHeaders();
  if (token) headers.set('Authorization', `Bearer ${token}`);
  const message = {
    subject,
    headers,
    info: { timestampNanos: storedAt.getTime() * 1e6, deliveryCount: 1 },
  } as unknown as JsMsg;
  return rpc(new JetStreamContext(message));
}

function grpcContext(values: string[]) {
  const metadata = new Metadata();
  for (const value of values) metadata.add('authorization', value);
  return rpc(metadata);
}

/** The guard's decision as a gRPC status code; it may decide synchronously (a cached token). */
async function rpcCode(decide: () => boolean | Promise<boolean>): Promise<number | 'allowed'> {
  try {
    await decide();
    return 'allowed';
  } catch (error) {
    if (!(error instanceof RpcException)) throw error;
    return (error.getError() as { code: number }).code;
  }
}

beforeAll(async () => {
  issuer = await TestIssuer.create();
  retired = await issuer.addRetiredKey(T0 - 3600, T0 - 60);
  const options = resolveSecurityOptions({
    issuer: issuer.url,
    audience: 'users',
    revocations: false,
  });
  const verifier = new TokenVerifier(
    {
      issuer: issuer.url,
      algorithms: ALLOWED_ALGORITHMS,
      clockToleranceSeconds: 30,
      cacheSize: 100,
    },
    issuer.localKeys(),
    new RevocationList(() => T0),
    async (header) =>
      header.kid === retired.kid
        ? { key: retired.publicKey, activatedAt: T0 - 3600, retiredAt: T0 - 60 }
        : undefined,
  );
  guard = new SecurityGuard(new Reflector(), verifier, new AbilityFactory([]), options, {
    authenticate: () => {
      throw new Error('these tests have no HTTP context');
    },
  });
});

describe('SecurityGuard in NATS context', () => {
  it('checks the token against the time the broker stored the message, not now', async () => {
    // A 5-minute token that expired almost two hours ago, but was valid when the message was
    // stored two hours ago.
    const token = await issuer.serviceToken('auth', 'events', 'events:publish', {
      iat: T0 - 7300,
      exp: T0 - 7000,
    });
    expect(
      await rpcCode(() =>
        guard.canActivate(natsContext('auth.identity.registered', token, at(-7200))),
      ),
    ).toBe('allowed');
  });

  it('accepts a message whose token a key signed that the issuer has retired since; gRPC does not', async () => {
    const token = await issuer.sign(
      issuer.serviceClaims('auth', ['events', 'users'] as never, 'events:publish', {
        iat: T0 - 120,
        exp: T0 + 180,
      }),
      { kid: retired.kid, key: retired.privateKey },
    );
    expect(
      await rpcCode(() =>
        guard.canActivate(natsContext('auth.identity.registered', token, at(-100))),
      ),
    ).toBe('allowed');
    // The same token on a live call: a retired key verifies nothing there.
    expect(await rpcCode(() => guard.canActivate(grpcContext([`Bearer ${token}`])))).toBe(16);
  });

  it('refuses a token that was already expired when the message was stored', async () => {
    const token = await issuer.serviceToken('auth', 'events', 'events:publish', {
      iat: T0 - 600,
      exp: T0 - 300,
    });
    expect(
      await rpcCode(() => guard.canActivate(natsContext('auth.identity.registered', token, at(0)))),
    ).toBe(16);
  });

  it('refuses a message stored longer ago than a stream keeps one (AUTH keeps its revocations longer)', async () => {
    const storedFor = async (seconds: number) => {
      const token = await issuer.serviceToken('auth', 'events', 'events:publish', {
        iat: T0 - seconds - 60,
        exp: T0 - seconds + 240,
      });
      return guard.canActivate(natsContext('auth.identity.registered', token, at(-seconds)));
    };
    expect(MAX_STORED_MESSAGE_AGE_SECONDS * 1000).toBe(STREAM_MAX_AGE_MS);
    expect(AUTH_STREAM_MAX_AGE_MS - STREAM_MAX_AGE_MS).toBeGreaterThanOrEqual(
      (MAX_ACCESS_TOKEN_TTL_SECONDS + 2 * CLOCK_TOLERANCE_SECONDS + 60) * 1000,
    );
    const now = jest.spyOn(Date, 'now').mockReturnValue(T0 * 1000);
    try {
      await expect(storedFor(MAX_STORED_MESSAGE_AGE_SECONDS)).resolves.toBe(true);
      const refusal = await storedFor(MAX_STORED_MESSAGE_AGE_SECONDS + 1).catch((e: unknown) => e);
      expect(refusal).toBeInstanceOf(RpcException);
      expect((refusal as RpcException).getError()).toEqual({
        code: 16,
        errorCode: 'MESSAGE_TOO_OLD',
        message: expect.stringContaining('stored too long ago'),
      });
    } finally {
      now.mockRestore();
    }
  });

  it('refuses a publisher outside its subject prefix', async () => {
    const token = await issuer.serviceToken('users', 'events', 'events:publish');
    expect(
      await rpcCode(() => guard.canActivate(natsContext('auth.revocations', token, at(1)))),
    ).toBe(7);
  });

  it('refuses a subject nobody may publish', async () => {
    const token = await issuer.serviceToken('auth', 'events', 'events:publish');
    expect(await rpcCode(() => guard.canActivate(natsContext('evil.subject', token, at(1))))).toBe(
      7,
    );
  });
});

describe('SecurityGuard in gRPC context', () => {
  it('refuses two authorization entries', async () => {
    const token = await issuer.serviceToken('orders', 'users', '');
    expect(
      await rpcCode(() => guard.canActivate(grpcContext([`Bearer ${token}`, `Bearer ${token}`]))),
    ).toBe(16);
    expect(await rpcCode(() => guard.canActivate(grpcContext([`Bearer ${token}`])))).toBe(
      'allowed',
    );
  });

  it.each(['Basic abc', 'Bearer', 'bearer  x y', 'Token abc'])(
    'refuses authorization %p',
    async (value) => {
      expect(await rpcCode(() => guard.canActivate(grpcContext([value])))).toBe(16);
    },
  );

  it('denies an rpc context that is neither gRPC nor JetStream', async () => {
    expect(await rpcCode(() => guard.canActivate(rpc({ authorization: 'x' })))).toBe(16);
  });
});

@Public()
class PublicController {
  open() {}
  @Scopes('admin:write')
  scoped() {}
  @CheckPolicies((ability: AppAbility) => ability.can('manage', 'all'))
  checked() {}
  @RequireRecentAuth(60)
  recent() {}
  @Public()
  @Scopes('admin:write')
  both() {}
}

@Scopes('admin:write')
class ScopedController {
  @Public()
  open() {}
}

describe('@Public()', () => {
  const anonymousCall = (controller: new () => object, method: string) => {
    const handler = (controller.prototype as Record<string, () => void>)[method];
    const host = new ExecutionContextHost([{}, new Metadata()], controller as never, handler);
    host.setType('rpc');
    return rpcCode(() => guard.canActivate(host));
  };

  it('opens the methods of a public controller', async () => {
    expect(await anonymousCall(PublicController, 'open')).toBe('allowed');
  });

  it('opens a public method of a controller that requires a scope', async () => {
    expect(await anonymousCall(ScopedController, 'open')).toBe('allowed');
  });

  it.each(['scoped', 'checked', 'recent', 'both'])(
    'does not open a method that declares a security requirement (%s): it needs a token',
    async (method) => {
      expect(await anonymousCall(PublicController, method)).toBe(16);
    },
  );
});

/** Each stacked decorator adds its rule: none may be lost to the one written above it. */
class StackedRules {
  @Scopes('a:read')
  @Scopes('b:read')
  scopes() {}
  @CheckPolicies(() => true)
  @CheckPolicies(() => false)
  refusedBelow() {}
  @CheckPolicies(() => false)
  @CheckPolicies(() => true)
  refusedAbove() {}
  @RequireRecentAuth(3600)
  @RequireRecentAuth(60)
  strictBelow() {}
  @RequireRecentAuth(60)
  @RequireRecentAuth(3600)
  strictAbove() {}
}

@RequireRecentAuth(60)
class StrictController {
  @RequireRecentAuth(3600)
  looser() {}
}

describe('stacked security decorators', () => {
  const call = (controller: new () => object, method: string, token: string) => {
    const handler = (controller.prototype as Record<string, () => void>)[method];
    const metadata = new Metadata();
    metadata.add('authorization', `Bearer ${token}`);
    const host = new ExecutionContextHost([{}, metadata], controller as never, handler);
    host.setType('rpc');
    return rpcCode(() => guard.canActivate(host));
  };

  it('requires the scopes of every @Scopes', async () => {
    const upper = await issuer.serviceToken('orders', 'users', 'a:read');
    const lower = await issuer.serviceToken('orders', 'users', 'b:read');
    const both = await issuer.serviceToken('orders', 'users', 'a:read b:read');
    expect(await call(StackedRules, 'scopes', upper)).toBe(7);
    expect(await call(StackedRules, 'scopes', lower)).toBe(7);
    expect(await call(StackedRules, 'scopes', both)).toBe('allowed');
  });

  it.each(['refusedBelow', 'refusedAbove'])('checks every @CheckPolicies (%s)', async (method) => {
    expect(await call(StackedRules, method, await issuer.userToken())).toBe(7);
  });

  it('keeps the result check of a @CheckPolicies stacked under a type check, with one interceptor', () => {
    class Route {
      @CheckPolicies((ability: AppAbility) => ability.can('read', 'Item'))
      @CheckPolicies((ability: AppAbility, item: object) => ability.can('read', item))
      @CheckPolicies((ability: AppAbility, item: object) => ability.can('update', item))
      get() {}
    }
    const handlers = new Reflector().get(POLICY_HANDLERS, Route.prototype.get);
    expect(handlers.map((handler) => handler.length).sort()).toEqual([1, 2, 2]);
    expect(Reflect.getMetadata(INTERCEPTORS_METADATA, Route.prototype.get)).toEqual([
      PoliciesInterceptor,
    ]);
  });

  it('refuses a service token on a @RequireRecentAuth route with PERMISSION_DENIED, not a step-up', async () => {
    // A service has no login to redo: answering "authenticate again" would send it in circles.
    const service = await issuer.serviceToken('orders', 'users', '');
    expect(await call(StrictController, 'looser', service)).toBe(7);
  });

  it.each([
    [StackedRules, 'strictBelow'],
    [StackedRules, 'strictAbove'],
    [StrictController, 'looser'],
  ] as const)('applies the shortest @RequireRecentAuth (%p.%s)', async (controller, method) => {
    const twoMinutesAgo = await issuer.userToken({ auth_time: T0 - 120 });
    const now = await issuer.userToken({ auth_time: T0 });
    expect(await call(controller, method, twoMinutesAgo)).toBe(16);
    expect(await call(controller, method, now)).toBe('allowed');
  });
});
