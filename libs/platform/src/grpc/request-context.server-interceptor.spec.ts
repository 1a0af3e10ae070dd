import * as grpc from '@grpc/grpc-js';
import * as loader from '@grpc/proto-loader';
import {
  Controller,
  Injectable,
  Module,
  type CanActivate,
  type INestMicroservice,
} from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { GrpcMethod, type MicroserviceOptions } from '@nestjs/microservices';
import { currentRequestId } from '../context/request-context';
import { freePort } from '../../../../scripts/lib/infra';
import { grpcServerOptions } from './grpc-options';
import { protoDir, protoFile } from './proto-path';

/** The request id each stage of a gRPC call saw, in order. */
const seen: { stage: string; requestId: string | undefined }[] = [];

@Injectable()
class RecordingGuard implements CanActivate {
  canActivate(): boolean {
    seen.push({ stage: 'guard', requestId: currentRequestId() });
    return true;
  }
}

@Controller()
class UsersController {
  @GrpcMethod('UsersService', 'GetUser')
  async get({ id }: { id: string }) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    seen.push({ stage: 'handler', requestId: currentRequestId() });
    return { id, displayName: 'x' };
  }
}

@Module({
  controllers: [UsersController],
  providers: [{ provide: APP_GUARD, useClass: RecordingGuard }],
})
class ProbeModule {}

type UsersClient = grpc.Client & {
  GetUser(
    request: { id: string },
    metadata: grpc.Metadata,
    callback: (error: grpc.ServiceError | null) => void,
  ): void;
};

let app: INestMicroservice;
let client: UsersClient;

beforeAll(async () => {
  const url = `127.0.0.1:${await freePort()}`;
  app = await NestFactory.createMicroservice<MicroserviceOptions>(ProbeModule, {
    ...grpcServerOptions('users.v1', 'users/v1/users.proto', url, 'plaintext', []),
    logger: false,
  });
  await app.listen();
  const definition = grpc.loadPackageDefinition(
    loader.loadSync(protoFile('users/v1/users.proto'), { includeDirs: [protoDir()] }),
  ) as unknown as { users: { v1: { UsersService: grpc.ServiceClientConstructor } } };
  client = new definition.users.v1.UsersService(
    url,
    grpc.credentials.createInsecure(),
  ) as unknown as UsersClient;
});

afterAll(async () => {
  client?.close();
  await app?.close();
});

beforeEach(() => (seen.length = 0));

const call = (metadata = new grpc.Metadata()) =>
  new Promise<void>((resolve, reject) =>
    client.GetUser({ id: 'u1' }, metadata, (error) => (error ? reject(error) : resolve())),
  );

describe('gRPC request context', () => {
  it("runs guards and the handler in the context of the caller's x-request-id", async () => {
    const metadata = new grpc.Metadata();
    metadata.set('x-request-id', 'grpc-req-1');
    await call(metadata);
    expect(seen).toEqual([
      { stage: 'guard', requestId: 'grpc-req-1' },
      { stage: 'handler', requestId: 'grpc-req-1' },
    ]);
  });

  it('gives a call without an id (or with a bad one) a new id, the same in every stage', async () => {
    const metadata = new grpc.Metadata();
    metadata.set('x-request-id', 'a "quoted" id');
    await call(metadata);
    const [guard, handler] = seen;
    expect(guard.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(handler.requestId).toBe(guard.requestId);
  });
});
