import { ReadinessService } from '../health/readiness.service';
import type { MessagingOptions } from './messaging.options';
import { NatsConnectionService } from './nats-connection.service';

const options = (url: string, caFile?: string) =>
  ({ serviceName: 'orders', url, caFile, ownStreams: [], consumers: [] }) as MessagingOptions;

describe('NatsConnectionService', () => {
  it('refuses a CA file with a nats:// url, which would connect in plaintext and ignore it', () => {
    expect(
      () =>
        new NatsConnectionService(options('nats://nats:4222', '/ca.pem'), new ReadinessService()),
    ).toThrow('a NATS CA file is only for a tls:// url');
  });

  it('takes a CA file with a tls:// url, and a nats:// url without one', () => {
    expect(
      () =>
        new NatsConnectionService(options('tls://nats:4222', '/ca.pem'), new ReadinessService()),
    ).not.toThrow();
    expect(
      () => new NatsConnectionService(options('nats://nats:4222'), new ReadinessService()),
    ).not.toThrow();
  });
});
