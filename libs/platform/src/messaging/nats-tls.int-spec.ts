// A tls:// NATS_URL against real nats-servers: TLS with the configured CA, and never a silent
// downgrade to plaintext (nats.js ignores the url's scheme unless told to require TLS).
import { Logger } from '@nestjs/common';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startNatsServer } from '../../../../scripts/lib/infra';
import { eventually } from '../../../../test/support/eventually';
import { createTestPki, type IssuedCertificate } from '../../../../test/support/test-pki';
import { baseConfigSchema } from '../config/base-config.schema';
import { loadConfig } from '../config/load-config';
import { ReadinessService } from '../health/readiness.service';
import { NatsConnectionService } from './nats-connection.service';

const USER = 'orders';
const PASSWORD = 'tls-spec-password-that-must-never-travel-in-clear';

describe('a tls:// NATS_URL', () => {
  let dir: string;
  let pki: ReturnType<typeof createTestPki>;
  let certs: IssuedCertificate & { caFile: string };
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(() => {
    Logger.overrideLogger(false);
    dir = mkdtempSync(join(tmpdir(), 'nats-tls-'));
    pki = createTestPki('nats-tls-pki');
    const ca = pki.ca('nats-tls-spec');
    certs = {
      caFile: ca.caFile,
      ...ca.issue('localhost', 'DNS:localhost,IP:127.0.0.1', 'serverAuth'),
    };
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  afterAll(() => {
    Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']);
    rmSync(dir, { recursive: true, force: true });
    pki.remove();
  });

  async function broker(tls: boolean) {
    const name = tls ? 'tls' : 'plain';
    const configFile = join(dir, `${name}.conf`);
    writeFileSync(
      configFile,
      (tls ? `tls { cert_file: "${certs.certFile}", key_file: "${certs.keyFile}" }\n` : '') +
        `authorization { users = [ { user: "${USER}", password: "${PASSWORD}" } ] }\n`,
    );
    const nats = await startNatsServer({ storeDir: join(dir, `js-${name}`), configFile });
    cleanups.push(() => nats.stop());
    return nats;
  }

  /** The service's connection, configured the way a service reads its environment. */
  async function serviceConnection(env: { NATS_URL: string; NATS_CA_FILE?: string }) {
    const config = loadConfig(baseConfigSchema, {
      PORT: '3000',
      DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/unused',
      NATS_USER: USER,
      NATS_PASSWORD: PASSWORD,
      ...env,
    });
    const service = new NatsConnectionService(
      {
        serviceName: 'orders',
        url: config.NATS_URL,
        user: config.NATS_USER,
        password: config.NATS_PASSWORD,
        caFile: config.NATS_CA_FILE,
        ownStreams: [],
        consumers: [],
      },
      new ReadinessService(),
    );
    service.onModuleInit();
    cleanups.push(() => service.onApplicationShutdown());
    return service;
  }

  const settle = () => new Promise((resolve) => setTimeout(resolve, 2500));

  it('connects over TLS, trusting NATS_CA_FILE, and messages round-trip', async () => {
    const nats = await broker(true);
    const service = await serviceConnection({
      NATS_URL: `tls://localhost:${nats.port}`,
      NATS_CA_FILE: certs.caFile,
    });
    const connection = await service.whenConnected();
    expect(service.isConnected).toBe(true);
    const subscription = connection.subscribe('orders.tls-probe', { max: 1 });
    connection.publish('orders.tls-probe', Buffer.from('over tls'));
    for await (const message of subscription) {
      expect(Buffer.from(message.data).toString()).toBe('over tls');
    }
    expect(subscription.getProcessed()).toBe(1);
  }, 20_000);

  it('refuses a broker certificate its CAs do not vouch for (Node defaults without NATS_CA_FILE)', async () => {
    const nats = await broker(true);
    const service = await serviceConnection({ NATS_URL: `tls://localhost:${nats.port}` });
    await settle();
    expect(service.isConnected).toBe(false);
  }, 20_000);

  it('does not connect to a broker that offers no TLS', async () => {
    const nats = await broker(false);
    const service = await serviceConnection({
      NATS_URL: `tls://127.0.0.1:${nats.port}`,
      NATS_CA_FILE: certs.caFile,
    });
    await settle();
    expect(service.isConnected).toBe(false);
  }, 20_000);

  it('sends nothing, and never the password, to a server that answers in plaintext', async () => {
    // What a man in the middle would do: answer as a NATS server that does not mention TLS.
    const port = await freePort();
    const received: Buffer[] = [];
    const sockets = new Set<Socket>();
    let connections = 0;
    const fake: Server = createServer((socket) => {
      connections++;
      sockets.add(socket);
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
      socket.write(
        `INFO ${JSON.stringify({
          server_id: 'FAKE',
          server_name: 'fake',
          version: '2.9.10',
          proto: 1,
          host: '127.0.0.1',
          port,
          headers: true,
          auth_required: true,
          max_payload: 1048576,
        })}\r\n`,
      );
    });
    await new Promise<void>((resolve) => fake.listen(port, '127.0.0.1', resolve));
    cleanups.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => fake.close(resolve));
    });

    const service = await serviceConnection({
      NATS_URL: `tls://127.0.0.1:${port}`,
      NATS_CA_FILE: certs.caFile,
    });
    await eventually(() => connections >= 1, 10_000, 50, 'a connection attempt');
    await settle();
    expect(service.isConnected).toBe(false);
    const sent = Buffer.concat(received).toString('latin1');
    expect(sent).not.toContain(PASSWORD);
    expect(sent).not.toContain('CONNECT');
    expect(sent).toBe('');
  }, 20_000);
});
