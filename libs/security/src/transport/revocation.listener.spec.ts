import type { NatsConnectionService, ReadinessService } from '@app/platform';
import { Logger } from '@nestjs/common';
import { headers as natsHeaders, type JsMsg } from 'nats';
import { SecurityError } from '../security.error';
import { RevocationList } from '../token/revocation-list';
import type { TokenVerifier } from '../token/token-verifier';
import { eventually } from '../../../../test/support/eventually';
import { RevocationListener } from './revocation.listener';

const NOW = Math.floor(Date.now() / 1000);

function revocation(
  seq: number,
  sub: string,
  subject = 'auth.revocations',
  event: object = { type: 'sub', sub, at: NOW + 60 },
): JsMsg {
  const headers = natsHeaders();
  headers.set('Authorization', 'Bearer auth-events-token');
  headers.set('Nats-Msg-Id', `msg-${seq}`);
  return {
    seq,
    subject,
    data: Buffer.from(JSON.stringify(event)),
    headers,
    info: { timestampNanos: Date.now() * 1e6, deliveryCount: 1 },
  } as unknown as JsMsg;
}

interface ConsumerRequest {
  filterSubjects: string;
  opt_start_seq?: number;
  opt_start_time?: string;
}

/**
 * A stream of revocation messages; each consumer delivers, of its filter subject, from the
 * sequence it was asked for. `starts` records the sequences asked for on `auth.revocations`.
 */
function fakeNats(stream: JsMsg[]) {
  const starts: (number | undefined)[] = [];
  const requests: ConsumerRequest[] = [];
  const nats = {
    whenConnected: async () => undefined,
    jetstream: () => ({
      consumers: {
        get: async (_stream: string, options: ConsumerRequest) => {
          requests.push(options);
          if (options.filterSubjects === 'auth.revocations') starts.push(options.opt_start_seq);
          let stopped = false;
          const delivered = stream.filter(
            (message) =>
              message.subject === options.filterSubjects &&
              message.seq >= (options.opt_start_seq ?? 1),
          );
          return {
            // As at creation: how many messages the consumer has to deliver.
            info: async () => ({ num_pending: delivered.length }),
            consume: async () => ({
              stop: () => (stopped = true),
              async *[Symbol.asyncIterator]() {
                for (const [index, message] of delivered.entries()) {
                  if (stopped) return;
                  const pending = delivered.length - index - 1;
                  yield { ...message, info: { ...message.info, pending } } as JsMsg;
                }
                // An ordered consumer then waits for more; this one just idles.
                while (!stopped) await new Promise((resolve) => setTimeout(resolve, 20));
              },
            }),
          };
        },
      },
    }),
  };
  return { nats: nats as unknown as NatsConnectionService, starts, requests };
}

const authPrincipal = {
  kind: 'service',
  clientId: 'auth',
  scopes: ['events:publish'],
} as const;

beforeAll(() => Logger.overrideLogger(false));

const claims = (sub: string) => ({ sub, jti: `jti-${sub}`, client_id: 'web', iat: NOW }) as never;

/** A listener on `stream`, its messages checked by `verify`, started; stop it with `listener`. */
function startListener(stream: JsMsg[], verify: () => Promise<unknown>) {
  const { nats, starts, requests } = fakeNats(stream);
  const revocations = new RevocationList();
  const checks = new Map<string, () => Promise<void>>();
  const readiness = {
    register: (name: string, check: () => Promise<void>) => checks.set(name, check),
  };
  const listener = new RevocationListener(
    nats,
    { verify } as unknown as TokenVerifier,
    revocations,
    readiness as unknown as ReadinessService,
  );
  listener.onApplicationBootstrap();
  const ready = () =>
    checks.get('revocations')!().then(
      () => true,
      () => false,
    );
  return { listener, revocations, starts, requests, ready };
}

describe('RevocationListener', () => {
  it('checks each revocation as a stored message: at its stored time, retired keys allowed', async () => {
    // A replica starting after a key rotation replays revocations whose token the old key
    // signed; without allowRetiredKeys they would be ignored and the revoked tokens accepted.
    const message = revocation(1, 'carol');
    const verify = jest.fn(async () => ({ principal: authPrincipal, claims: {} }));
    const { listener, revocations } = startListener([message], verify);
    try {
      await eventually(() => verify.mock.calls.length === 1, 3000, 20);
      expect(verify).toHaveBeenCalledWith('auth-events-token', {
        audience: 'events',
        currentDate: new Date(Math.floor(message.info.timestampNanos / 1e6)),
        allowRetiredKeys: true,
      });
      await eventually(
        () => {
          try {
            revocations.check(claims('carol'));
            return false;
          } catch {
            return true;
          }
        },
        3000,
        20,
      );
    } finally {
      await listener.onApplicationShutdown();
    }
  });

  it('reads a revocation again when the issuer keys were unreachable, instead of dropping it', async () => {
    let keysDown = true;
    const verify = jest.fn(async () => {
      // The second message arrives while auth's JWKS cannot be fetched.
      if (verify.mock.calls.length === 2 && keysDown) {
        keysDown = false;
        throw new SecurityError('JWKS_UNAVAILABLE', 'issuer keys are unavailable');
      }
      return { principal: authPrincipal };
    });
    const { listener, revocations, starts } = startListener(
      [revocation(1, 'alice'), revocation(2, 'bob')],
      verify,
    );
    try {
      await eventually(() => revocations.isRevoked(claims('bob')), 3000);
      expect(revocations.isRevoked(claims('alice'))).toBe(true);
      expect(revocations.isRevoked(claims('bob'))).toBe(true);
      // The second consumer starts at the message that could not be checked.
      expect(starts).toEqual([undefined, 2]);
    } finally {
      await listener.onApplicationShutdown();
    }
  });

  it('still skips, for good, a message that fails its checks', async () => {
    const verify = jest.fn(async () => {
      if (verify.mock.calls.length === 1) {
        throw new SecurityError('TOKEN_SIGNATURE_INVALID', 'bad signature');
      }
      return { principal: authPrincipal };
    });
    const { listener, revocations, starts } = startListener(
      [revocation(1, 'mallory'), revocation(2, 'carol')],
      verify,
    );
    try {
      await eventually(() => revocations.isRevoked(claims('carol')), 3000);
      expect(revocations.isRevoked(claims('carol'))).toBe(true);
      expect(revocations.isRevoked(claims('mallory'))).toBe(false);
      expect(starts).toEqual([undefined]);
    } finally {
      await listener.onApplicationShutdown();
    }
  });

  it.each(['auth.revocations', 'auth.revocations.stored'])(
    'is ready only once the revocations of the %s replay window are applied',
    async (subject) => {
      let release: () => void = () => undefined;
      const held = new Promise<void>((resolve) => (release = resolve));
      const verify = jest.fn(async () => {
        if (verify.mock.calls.length === 2) await held; // bob's is slow to check
        return { principal: authPrincipal };
      });
      const { listener, ready } = startListener(
        [revocation(1, 'alice', subject), revocation(2, 'bob', subject)],
        verify,
      );
      try {
        await eventually(() => verify.mock.calls.length >= 2, 3000, 20);
        expect(await ready()).toBe(false);
        release();
        await eventually(ready, 3000, 20);
        expect(await ready()).toBe(true);
      } finally {
        release();
        await listener.onApplicationShutdown();
      }
    },
  );

  it('replays auth.revocations 15 min back and auth.revocations.stored all that AUTH keeps', async () => {
    const stored = revocation(2, 'orders', 'auth.revocations.stored', {
      type: 'client',
      clientId: 'inventory',
      at: NOW,
    });
    const verify = jest.fn(async () => ({ principal: authPrincipal }));
    const before = Date.now();
    const { listener, revocations, requests, ready } = startListener(
      [revocation(1, 'alice'), stored],
      verify,
    );
    const inventory = { sub: 'inventory', jti: 'j', client_id: 'inventory', iat: NOW - 60 };
    try {
      await eventually(ready, 3000, 20);
      const after = Date.now();
      expect(revocations.isRevoked(claims('alice'))).toBe(true);
      expect(revocations.isRevoked(inventory as never)).toBe(true);
      const startOf = (subject: string) =>
        Date.parse(requests.find((request) => request.filterSubjects === subject)!.opt_start_time!);
      // Each consumer starts its window back from the moment it was created.
      const window = (subject: string, seconds: number) => {
        expect(startOf(subject)).toBeGreaterThanOrEqual(before - seconds * 1000);
        expect(startOf(subject)).toBeLessThanOrEqual(after - seconds * 1000);
      };
      window('auth.revocations', 15 * 60 + 30);
      // 7 days and an hour: more than the deny-list keeps these, which is 7 days + 15.5 min.
      window('auth.revocations.stored', 7 * 24 * 3600 + 3600);
    } finally {
      await listener.onApplicationShutdown();
    }
  });

  it('is ready at once when there is nothing to replay', async () => {
    const { listener, ready } = startListener([], async () => undefined);
    try {
      await eventually(ready, 3000, 20);
      expect(await ready()).toBe(true);
    } finally {
      await listener.onApplicationShutdown();
    }
  });
});
