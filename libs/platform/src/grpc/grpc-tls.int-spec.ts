// Mutual TLS between gRPC services, against real grpc-js servers and clients built with
// grpcServerOptions / grpcClientOptions: only a client with a certificate of the services' CA
// is served, a client talks only to a server of that CA naming the host it dialed, and nothing
// (no bearer token in the metadata) leaves the client in plaintext.
import * as grpc from '@grpc/grpc-js';
import * as loader from '@grpc/proto-loader';
import { Controller, Logger, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ClientProxyFactory,
  GrpcMethod,
  type ClientGrpc,
  type GrpcOptions,
  type MicroserviceOptions,
} from '@nestjs/microservices';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { lastValueFrom, type Observable } from 'rxjs';
import { freePort } from '../../../../scripts/lib/infra';
import { createTestPki, type TestCa } from '../../../../test/support/test-pki';
import { grpcClientOptions, grpcServerOptions } from './grpc-options';
import { GRPC_TLS_ENV, loadGrpcTls, type GrpcTls } from './grpc-tls';
import { protoDir, protoFile } from './proto-path';

const PROTO = 'users/v1/users.proto';

let handled = 0;

@Controller()
class UsersController {
  @GrpcMethod('UsersService', 'GetUser')
  get({ id }: { id: string }) {
    handled++;
    return { id, displayName: 'over tls' };
  }
}

@Module({ controllers: [UsersController] })
class ProbeModule {}

interface UsersService {
  getUser(request: { id: string }, metadata?: grpc.Metadata): Observable<unknown>;
}

/** One call through a Nest gRPC client built with grpcClientOptions; the client is closed after. */
async function callThrough(options: GrpcOptions): Promise<unknown> {
  const proxy = ClientProxyFactory.create(options) as unknown as ClientGrpc & { close(): void };
  try {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', 'Bearer a-token-that-must-not-travel-in-clear');
    return await lastValueFrom(
      proxy.getService<UsersService>('UsersService').getUser({ id: 'u1' }, metadata),
    );
  } finally {
    proxy.close();
  }
}

describe('gRPC with mutual TLS', () => {
  const pki = createTestPki('grpc-tls');
  let services: TestCa;
  let stranger: TestCa;
  /** The TLS settings of a service whose certificate `ca` signed, trusting `trust`'s certificates. */
  function tlsOf(ca: TestCa, name: string, trust: TestCa = ca): GrpcTls {
    const { certFile, keyFile } = ca.issue(name, `DNS:localhost,DNS:${name}`);
    return loadGrpcTls({
      NODE_ENV: 'test',
      GRPC_TLS_CERT_FILE: certFile,
      GRPC_TLS_KEY_FILE: keyFile,
      GRPC_TLS_CA_FILE: trust.caFile,
      GRPC_PLAINTEXT: false,
    }) as GrpcTls;
  }
  const servers: INestMicroservice[] = [];

  async function startServer(tls: GrpcTls): Promise<number> {
    const port = await freePort();
    const app = await NestFactory.createMicroservice<MicroserviceOptions>(ProbeModule, {
      ...grpcServerOptions('users.v1', PROTO, `127.0.0.1:${port}`, tls, ['orders']),
      logger: false,
    });
    await app.listen();
    servers.push(app);
    return port;
  }

  let port: number;
  let client: GrpcTls;

  beforeAll(async () => {
    services = pki.ca('services');
    stranger = pki.ca('stranger');
    client = tlsOf(services, 'orders');
    port = await startServer(tlsOf(services, 'users'));
  });

  afterAll(async () => {
    for (const app of servers) await app.close();
    pki.remove();
  });

  it('serves a client presenting a certificate of the services CA', async () => {
    await expect(
      callThrough(grpcClientOptions('users.v1', PROTO, `localhost:${port}`, [], client)),
    ).resolves.toMatchObject({ id: 'u1', displayName: 'over tls' });
  });

  it('refuses a client of the services CA whose certificate names no service it serves, before Nest', async () => {
    const before = handled;
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const auth = tlsOf(services, 'auth');
    try {
      await expect(
        callThrough(grpcClientOptions('users.v1', PROTO, `localhost:${port}`, [], auth)),
      ).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED });
      // Logged (at most a line per 10 s), with the names the certificate carries; never the token.
      expect(warn).toHaveBeenCalledWith(
        expect.objectContaining({ certificateNames: ['localhost', 'auth'], allowed: ['orders'] }),
        expect.stringContaining('gRPC call refused'),
      );
      expect(JSON.stringify(warn.mock.calls)).not.toContain(
        'a-token-that-must-not-travel-in-clear',
      );
    } finally {
      warn.mockRestore();
    }
    expect(handled).toBe(before);
    // The same certificate naming orders is served.
    await expect(
      callThrough(grpcClientOptions('users.v1', PROTO, `localhost:${port}`, [], client)),
    ).resolves.toMatchObject({ id: 'u1' });
    expect(handled).toBe(before + 1);
  });

  it('refuses a plaintext client', async () => {
    await expect(
      callThrough(grpcClientOptions('users.v1', PROTO, `localhost:${port}`, [], 'plaintext')),
    ).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
  });

  it('refuses a TLS client without a client certificate', async () => {
    const definition = grpc.loadPackageDefinition(
      loader.loadSync(protoFile(PROTO), { includeDirs: [protoDir()] }),
    ) as unknown as { users: { v1: { UsersService: grpc.ServiceClientConstructor } } };
    const anonymous = new definition.users.v1.UsersService(
      `localhost:${port}`,
      grpc.credentials.createSsl(client.ca),
    ) as unknown as grpc.Client & {
      GetUser(r: { id: string }, cb: (error: grpc.ServiceError | null) => void): void;
    };
    try {
      const error = await new Promise<grpc.ServiceError | null>((resolve) =>
        anonymous.GetUser({ id: 'u1' }, resolve),
      );
      expect(error?.code).toBe(grpc.status.UNAVAILABLE);
    } finally {
      anonymous.close();
    }
  });

  it('refuses a client certificate of another CA, even one that trusts the services CA', async () => {
    const impostor = tlsOf(stranger, 'orders', services);
    await expect(
      callThrough(grpcClientOptions('users.v1', PROTO, `localhost:${port}`, [], impostor)),
    ).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
  });

  it('does not call a server whose certificate another CA signed', async () => {
    const impostorPort = await startServer(tlsOf(stranger, 'users', services));
    await expect(
      callThrough(grpcClientOptions('users.v1', PROTO, `localhost:${impostorPort}`, [], client)),
    ).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
  });

  it('does not call a server whose certificate does not name the host dialed', async () => {
    const { certFile, keyFile } = services.issue('elsewhere', 'DNS:elsewhere.test');
    const elsewherePort = await startServer(
      loadGrpcTls({
        NODE_ENV: 'test',
        GRPC_TLS_CERT_FILE: certFile,
        GRPC_TLS_KEY_FILE: keyFile,
        GRPC_TLS_CA_FILE: services.caFile,
        GRPC_PLAINTEXT: false,
      }) as GrpcTls,
    );
    await expect(
      callThrough(grpcClientOptions('users.v1', PROTO, `localhost:${elsewherePort}`, [], client)),
    ).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
      details: expect.stringMatching(/altnames|ALTNAME/i),
    });
  });

  it('starts with a TLS handshake: no HTTP/2 frame, no metadata, leaves the client in clear', async () => {
    const received: Buffer[] = [];
    const listener: Server = createServer((socket) => {
      socket.on('data', (chunk) => {
        received.push(chunk);
        socket.destroy();
      });
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const fakePort = (listener.address() as AddressInfo).port;
    try {
      await expect(
        callThrough(grpcClientOptions('users.v1', PROTO, `localhost:${fakePort}`, [], client)),
      ).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
      const bytes = Buffer.concat(received);
      expect(bytes.length).toBeGreaterThan(0);
      expect(bytes[0]).toBe(0x16); // a TLS handshake record (ClientHello)
      expect(bytes.includes('PRI * HTTP/2.0')).toBe(false);
    } finally {
      await new Promise((resolve) => listener.close(resolve));
    }
  });

  it('gives plaintext in production only with GRPC_PLAINTEXT=true, whatever the schema let through', () => {
    const withoutFiles = { NODE_ENV: 'production', GRPC_PLAINTEXT: false };
    expect(() => loadGrpcTls(withoutFiles)).toThrow(/needs GRPC_PLAINTEXT=true/);
    expect(loadGrpcTls({ ...withoutFiles, GRPC_PLAINTEXT: true })).toBe('plaintext');
    expect(loadGrpcTls({ ...withoutFiles, NODE_ENV: 'development' })).toBe('plaintext');
  });

  it('stops at start when a configured file cannot be read', () => {
    expect(() =>
      loadGrpcTls({
        NODE_ENV: 'production',
        GRPC_TLS_CERT_FILE: '/nonexistent/tls.crt',
        GRPC_TLS_KEY_FILE: '/nonexistent/tls.key',
        GRPC_TLS_CA_FILE: services.caFile,
        GRPC_PLAINTEXT: false,
      }),
    ).toThrow(`${GRPC_TLS_ENV.CERT_FILE}: cannot read /nonexistent/tls.crt (ENOENT)`);
  });
});
