// ensureStream against a real nats-server of its own (stream names are shared otherwise).
import { connect, nanos, RetentionPolicy, StorageType, type NatsConnection } from 'nats';
import infra from '../../../../scripts/lib/infra';
import { AUTH_STREAM_MAX_AGE_MS, STREAM_MAX_AGE_MS } from './messaging.constants';
import { ensureStream } from './streams.service';

describe('ensureStream', () => {
  let server: Awaited<ReturnType<typeof infra.startNatsServer>>;
  let nc: NatsConnection;

  beforeAll(async () => {
    server = await infra.startNatsServer();
    nc = await connect({ servers: server.url });
  });
  afterAll(async () => {
    await nc?.close();
    await server?.stop();
  });

  const maxAgeOf = async (name: string) =>
    (await (await nc.jetstreamManager()).streams.info(name)).config.max_age;

  it('keeps AUTH, which carries the revocations, an hour longer than the other streams', async () => {
    const jsm = await nc.jetstreamManager();
    await ensureStream(jsm, 'AUTH', ['auth.>']);
    await ensureStream(jsm, 'USERS', ['users.>']);
    expect(await maxAgeOf('AUTH')).toBe(nanos(AUTH_STREAM_MAX_AGE_MS));
    expect(await maxAgeOf('USERS')).toBe(nanos(STREAM_MAX_AGE_MS));
    expect(AUTH_STREAM_MAX_AGE_MS - STREAM_MAX_AGE_MS).toBe(3_600_000);
  });

  it("lengthens an older deployment's AUTH stream and keeps its messages", async () => {
    const jsm = await nc.jetstreamManager();
    // AUTH as the previous version made it: 7 days, holding a revocation.
    await jsm.streams.delete('AUTH');
    await jsm.streams.add({
      name: 'AUTH',
      subjects: ['auth.>'],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: nanos(STREAM_MAX_AGE_MS),
    });
    await nc.jetstream().publish('auth.revocations', new Uint8Array([1]));
    await ensureStream(jsm, 'AUTH', ['auth.>']);
    const info = await jsm.streams.info('AUTH');
    expect(info.config.max_age).toBe(nanos(AUTH_STREAM_MAX_AGE_MS));
    expect(info.state.messages).toBe(1);
  });

  it('never shortens a stream an operator made longer, or unlimited', async () => {
    const jsm = await nc.jetstreamManager();
    for (const maxAge of [nanos(STREAM_MAX_AGE_MS * 2), 0]) {
      const info = await jsm.streams.info('AUTH');
      await jsm.streams.update('AUTH', { ...info.config, max_age: maxAge });
      await ensureStream(jsm, 'AUTH', ['auth.>']);
      expect(await maxAgeOf('AUTH')).toBe(maxAge);
    }
  });
});
