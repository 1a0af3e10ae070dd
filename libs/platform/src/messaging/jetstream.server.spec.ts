import { headers as natsHeaders } from 'nats';
import { GRPC_STATUS } from '../errors/error-codes';
import { DEFAULT_MAX_DELIVER, JetStreamServer, redeliveryDelayMs } from './jetstream.server';

describe('redelivery of a message that keeps failing', () => {
  it('backs off 1 s, 2 s, 4 s, ... up to 30 s', () => {
    expect([1, 2, 3, 4, 5, 6, 20].map(redeliveryDelayMs)).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000,
    ]);
  });

  it('goes on for longer than a 15-minute outage before the message is dead-lettered', () => {
    let waited = 0;
    for (let delivery = 1; delivery < DEFAULT_MAX_DELIVER; delivery++) {
      waited += redeliveryDelayMs(delivery);
    }
    expect(waited).toBeGreaterThan(15 * 60_000);
  });
});

describe('a refused message whose dead letter cannot be written', () => {
  const options = { stream: 'USERS', durable: 'probe', filterSubject: 'users.>', maxDeliver: 3 };

  function message(deliveryCount: number, headers: Record<string, string> = {}) {
    const values = natsHeaders();
    values.set('Nats-Msg-Id', 'm-1');
    for (const [name, value] of Object.entries(headers)) values.set(name, value);
    return {
      subject: 'users.deleted',
      seq: 7,
      data: Buffer.from(JSON.stringify({ userId: 'u-1' })),
      headers: values,
      info: { deliveryCount, timestampNanos: Date.now() * 1e6 },
      ack: jest.fn(),
      nak: jest.fn(),
      term: jest.fn(),
    };
  }

  function serverWith(record: jest.Mock, handler: () => Promise<void>) {
    const server = new JetStreamServer({} as never, [], { record } as never);
    server.addHandler('users.deleted', handler, true);
    const process = (delivered: ReturnType<typeof message>) =>
      (server as unknown as { process(m: unknown, o: unknown): Promise<void> }).process(
        delivered,
        options,
      );
    return process;
  }

  const refusing = () => Promise.reject({ code: GRPC_STATUS.PERMISSION_DENIED, message: 'no' });
  const failing = () => Promise.reject(new Error('connection terminated'));

  it('is redelivered, not terminated, and terminated once it is recorded', async () => {
    const record = jest.fn().mockRejectedValueOnce(new Error('database away'));
    const process = serverWith(record, refusing);
    const first = message(1);
    await process(first);
    expect(first.term).not.toHaveBeenCalled();
    expect(first.nak).toHaveBeenCalledWith(redeliveryDelayMs(1));
    const second = message(2);
    await process(second);
    expect(second.term).toHaveBeenCalled();
    expect(record).toHaveBeenCalledTimes(2);
  });

  it('stays retriable past the last delivery while its dead letter cannot be written', async () => {
    const record = jest.fn().mockRejectedValue(new Error('database away'));
    const process = serverWith(record, failing);
    for (const delivery of [3, 4, 9]) {
      const delivered = message(delivery);
      await process(delivered);
      expect(delivered.term).not.toHaveBeenCalled();
      expect(delivered.nak).toHaveBeenCalled();
    }
    record.mockResolvedValue(undefined);
    const recorded = message(10);
    await process(recorded);
    expect(recorded.term).toHaveBeenCalled();
    expect(record).toHaveBeenCalledTimes(4);
  });
});

describe('one server feeding the consumers of several streams', () => {
  function delivered(subject: string, stream: string, consumer: string) {
    const values = natsHeaders();
    values.set('Nats-Msg-Id', `${stream}-1`);
    return {
      subject,
      seq: 1, // every stream has a sequence 1
      data: Buffer.from('{}'),
      headers: values,
      info: { stream, consumer, deliveryCount: 1, timestampNanos: Date.now() * 1e6 },
      ack: jest.fn(),
      nak: jest.fn(),
      term: jest.fn(),
    };
  }

  function serverWith(handlers: Record<string, () => Promise<void>>) {
    const server = new JetStreamServer({} as never, [], { record: jest.fn() } as never);
    for (const [subject, handler] of Object.entries(handlers)) {
      server.addHandler(subject, handler, true);
    }
    return (message: ReturnType<typeof delivered>, stream: string) =>
      (server as unknown as { process(m: unknown, o: unknown): Promise<void> }).process(message, {
        stream,
        durable: message.info.consumer,
        filterSubject: `${message.subject.split('.')[0]}.>`,
      });
  }

  it('runs a message of another stream with the same sequence while the first one still runs', async () => {
    let release!: () => void;
    const slow = () => new Promise<void>((resolve) => (release = resolve));
    const fast = jest.fn(async () => undefined);
    const process = serverWith({ 'orders.created': slow, 'users.deleted': fast });
    const first = delivered('orders.created', 'ORDERS', 'users-orders');
    const running = process(first, 'ORDERS');
    const second = delivered('users.deleted', 'USERS', 'orders-users');
    await process(second, 'USERS');
    expect(fast).toHaveBeenCalledTimes(1);
    expect(second.ack).toHaveBeenCalled();
    expect(second.nak).not.toHaveBeenCalled();
    release();
    await running;
    expect(first.ack).toHaveBeenCalled();
  });

  it('still holds back a redelivery of the message whose run goes on', async () => {
    let release!: () => void;
    const handler = jest.fn(() => new Promise<void>((resolve) => (release = resolve)));
    const process = serverWith({ 'orders.created': handler });
    const running = process(delivered('orders.created', 'ORDERS', 'users-orders'), 'ORDERS');
    const again = delivered('orders.created', 'ORDERS', 'users-orders');
    await process(again, 'ORDERS');
    expect(again.nak).toHaveBeenCalled();
    expect(handler).toHaveBeenCalledTimes(1);
    release();
    await running;
  });
});
