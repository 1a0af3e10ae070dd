import { JetStreamContext } from '@app/platform';
import { MAX_STORED_MESSAGE_AGE_SECONDS, type TokenVerifier } from '@app/security';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { RpcException } from '@nestjs/microservices';
import { headers as natsHeaders, type JsMsg } from 'nats';
import type { RevocationService } from '../revocations/revocation.service';
import { EventTokenGuard } from './event-token.guard';

const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);

function storedAgo(seconds: number) {
  const headers = natsHeaders();
  headers.set('Authorization', 'Bearer a.b.c');
  const message = {
    subject: 'users.deleted',
    headers,
    info: { timestampNanos: (NOW - seconds * 1000) * 1e6, deliveryCount: 1 },
  } as unknown as JsMsg;
  const host = new ExecutionContextHost([{}, new JetStreamContext(message)]);
  host.setType('rpc');
  return host;
}

describe('EventTokenGuard', () => {
  const claims = { client_id: 'users', scope: 'events:publish', jti: 'j', sub: 'users' };
  const verify = jest.fn().mockResolvedValue({
    claims,
    principal: { kind: 'service', clientId: 'users', scopes: ['events:publish'] },
  });
  const guard = new EventTokenGuard(
    { verify } as unknown as TokenVerifier,
    { isRevoked: async () => false } as unknown as RevocationService,
  );
  beforeEach(() => {
    jest.spyOn(Date, 'now').mockReturnValue(NOW);
    verify.mockClear();
  });
  afterEach(() => jest.restoreAllMocks());

  it('refuses a message stored longer ago than a stream keeps one, before verifying its token', async () => {
    await expect(guard.canActivate(storedAgo(MAX_STORED_MESSAGE_AGE_SECONDS))).resolves.toBe(true);
    const refusal = await Promise.resolve(
      guard.canActivate(storedAgo(MAX_STORED_MESSAGE_AGE_SECONDS + 1)),
    ).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(RpcException);
    expect((refusal as RpcException).getError()).toEqual({
      code: 16,
      message: 'message was stored too long ago: streams keep messages 7 days',
      errorCode: 'MESSAGE_TOO_OLD',
    });
    expect(verify).toHaveBeenCalledTimes(1);
  });

  it.each(['user', 'delegated'])(
    'refuses a %s token even with audience events, events:publish and the owner client',
    async (kind) => {
      verify.mockResolvedValueOnce({
        claims: { ...claims, roles: ['admin'], ...(kind === 'delegated' && { act: { sub: 'x' } }) },
        principal: { kind, id: 'u-1', clientId: 'users', scopes: ['events:publish'] },
      });
      const refusal = await Promise.resolve(guard.canActivate(storedAgo(1))).catch(
        (error: unknown) => error,
      );
      expect(refusal).toBeInstanceOf(RpcException);
      expect((refusal as RpcException).getError()).toEqual({
        code: 7,
        message: 'events are published by services only',
      });
    },
  );
});
