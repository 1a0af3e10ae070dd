import { protoDir, protoFile } from '@app/platform';
import * as grpc from '@grpc/grpc-js';
import * as loader from '@grpc/proto-loader';
import type { ServiceTokenClient } from '../token/service-token.client';
import { serviceTokenInterceptor } from './service-token.grpc-interceptor';

/**
 * The interceptor against a real grpc-js server (orders.v1.OrdersService) and a token source
 * whose answers each test controls.
 */
type Answer = (call: grpc.ServerUnaryCall<unknown, unknown>) => grpc.StatusObject | undefined;
interface Outcome {
  code: grpc.status;
  details?: string;
  value?: unknown;
  metadata?: grpc.Metadata;
}
interface OrdersStub extends grpc.Client {
  CountOpenOrders(
    request: { userId: string },
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, value?: unknown) => void,
  ): grpc.ClientUnaryCall;
}

const definition = grpc.loadPackageDefinition(
  loader.loadSync(protoFile('orders/v1/orders.proto'), { includeDirs: [protoDir()] }),
) as unknown as {
  orders: {
    v1: {
      OrdersService: grpc.ServiceClientConstructor & {
        service: grpc.ServiceDefinition;
      };
    };
  };
};

let server: grpc.Server;
let target: string;
/** The authorization of every call the server received, in order. */
let received: string[];
let answer: Answer;
/** How long the server takes to answer a call it does not refuse. */
let answerDelayMs: number;

beforeAll(async () => {
  server = new grpc.Server();
  server.addService(definition.orders.v1.OrdersService.service, {
    CountOpenOrders: (
      call: grpc.ServerUnaryCall<unknown, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) => {
      received.push(String(call.metadata.get('authorization')[0]));
      const failure = answer(call);
      if (failure) return callback(failure);
      setTimeout(() => callback(null, { count: 3 }), answerDelayMs);
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  target = `127.0.0.1:${port}`;
});

afterAll(() => server.forceShutdown());

beforeEach(() => {
  received = [];
  answer = () => undefined;
  answerDelayMs = 0;
});

/** A token source: each getToken() takes the next answer (a token, or a failure after `ms`). */
function tokenSource(...answers: { token?: string; fail?: boolean; ms?: number }[]) {
  const invalidated: string[] = [];
  let next = 0;
  const tokens = {
    getToken: () => {
      const { token, fail, ms = 0 } = answers[Math.min(next++, answers.length - 1)];
      return new Promise<string>((resolve, reject) =>
        setTimeout(() => (fail ? reject(new Error('auth down')) : resolve(token!)), ms),
      );
    },
    invalidate: (audience: string) => invalidated.push(audience),
  };
  return { tokens: tokens as unknown as ServiceTokenClient, invalidated, requests: () => next };
}

function client(tokens: ServiceTokenClient): OrdersStub {
  return new definition.orders.v1.OrdersService(target, grpc.credentials.createInsecure(), {
    interceptors: [serviceTokenInterceptor(tokens, 'orders', 'orders:read')],
  }) as unknown as OrdersStub;
}

/** Makes one call; `during(call)` runs right after it is made (e.g. to cancel it). */
function callOnce(
  stub: OrdersStub,
  { deadlineMs, metadata = new grpc.Metadata() }: { deadlineMs?: number; metadata?: grpc.Metadata },
  during?: (call: grpc.ClientUnaryCall) => void,
): Promise<Outcome> {
  return new Promise((resolve) => {
    let responseMetadata: grpc.Metadata | undefined;
    const options = deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs };
    const call = stub.CountOpenOrders({ userId: 'u1' }, metadata, options, (error, value) =>
      resolve(
        error
          ? { code: error.code, details: error.details, metadata: responseMetadata }
          : { code: grpc.status.OK, value, metadata: responseMetadata },
      ),
    );
    call.on('metadata', (md: grpc.Metadata) => (responseMetadata = md));
    during?.(call);
  });
}

/** What the server answers a call it refuses for its token. */
const unauthenticated = (): grpc.StatusObject => ({
  code: grpc.status.UNAUTHENTICATED,
  details: 'stale',
  metadata: new grpc.Metadata(),
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('serviceTokenInterceptor', () => {
  it('attaches the service token', async () => {
    const { tokens } = tokenSource({ token: 'tok-1' });
    const stub = client(tokens);
    await expect(callOnce(stub, { deadlineMs: 2000 })).resolves.toMatchObject({
      code: grpc.status.OK,
      value: { count: 3 },
    });
    expect(received).toEqual(['Bearer tok-1']);
    stub.close();
  });

  it('keeps a token the caller attached (an exchanged token) and fetches none', async () => {
    const source = tokenSource({ token: 'service-token' });
    const stub = client(source.tokens);
    const metadata = new grpc.Metadata();
    metadata.set('authorization', 'Bearer exchanged');
    await expect(callOnce(stub, { deadlineMs: 2000, metadata })).resolves.toMatchObject({
      code: grpc.status.OK,
    });
    expect(received).toEqual(['Bearer exchanged']);
    expect(source.requests()).toBe(0);
    stub.close();
  });

  it('ends the call with DEADLINE_EXCEEDED when the token comes after the deadline, and never sends it', async () => {
    const { tokens } = tokenSource({ token: 'late', ms: 600 });
    const stub = client(tokens);
    const started = Date.now();
    const outcome = await callOnce(stub, { deadlineMs: 150 });
    expect(outcome.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(Date.now() - started).toBeLessThan(550);
    await sleep(700); // the token arrives now: it must not start the call
    expect(received).toEqual([]);
    stub.close();
  });

  it('ends the call with UNAVAILABLE when no token can be had', async () => {
    const { tokens } = tokenSource({ fail: true });
    const stub = client(tokens);
    await expect(callOnce(stub, { deadlineMs: 2000 })).resolves.toMatchObject({
      code: grpc.status.UNAVAILABLE,
      details: 'no service token available',
    });
    expect(received).toEqual([]);
    stub.close();
  });

  it('answers a cancel while waiting for the token, and never sends the call', async () => {
    const { tokens } = tokenSource({ token: 'late', ms: 300 });
    const stub = client(tokens);
    const outcome = await callOnce(stub, { deadlineMs: 5000 }, (call) =>
      setTimeout(() => call.cancel(), 50),
    );
    expect(outcome.code).toBe(grpc.status.CANCELLED);
    await sleep(400);
    expect(received).toEqual([]);
    stub.close();
  });

  it('retries a unary call once with a fresh token after UNAUTHENTICATED, and gives the retry its answer', async () => {
    const source = tokenSource({ token: 'stale' }, { token: 'fresh' });
    answer = (call) =>
      call.metadata.get('authorization')[0] === 'Bearer stale' ? unauthenticated() : undefined;
    const stub = client(source.tokens);
    await expect(callOnce(stub, { deadlineMs: 2000 })).resolves.toMatchObject({
      code: grpc.status.OK,
      value: { count: 3 },
    });
    expect(received).toEqual(['Bearer stale', 'Bearer fresh']);
    expect(source.invalidated).toEqual(['orders']);
    stub.close();
  });

  it('retries only once', async () => {
    const { tokens } = tokenSource({ token: 'a' }, { token: 'b' }, { token: 'c' });
    answer = unauthenticated;
    const stub = client(tokens);
    await expect(callOnce(stub, { deadlineMs: 2000 })).resolves.toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
    });
    expect(received).toEqual(['Bearer a', 'Bearer b']);
    stub.close();
  });

  it('passes a cancel on to the retried call: the caller gets CANCELLED, not its result', async () => {
    const { tokens } = tokenSource({ token: 'stale' }, { token: 'fresh' });
    let retried: () => void = () => undefined;
    const retriedReached = new Promise<void>((resolve) => (retried = resolve));
    answer = (call) => {
      if (call.metadata.get('authorization')[0] === 'Bearer stale') {
        return unauthenticated();
      }
      retried();
      return undefined;
    };
    answerDelayMs = 300;
    const stub = client(tokens);
    const outcome = await callOnce(stub, { deadlineMs: 5000 }, (call) => {
      void retriedReached.then(() => call.cancel());
    });
    expect(received).toEqual(['Bearer stale', 'Bearer fresh']);
    expect(outcome.code).toBe(grpc.status.CANCELLED);
    stub.close();
  });

  it('counts the wait for the retry token against the deadline too', async () => {
    const { tokens } = tokenSource({ token: 'stale' }, { token: 'fresh', ms: 600 });
    answer = unauthenticated;
    const stub = client(tokens);
    await expect(callOnce(stub, { deadlineMs: 200 })).resolves.toMatchObject({
      code: grpc.status.DEADLINE_EXCEEDED,
    });
    await sleep(700);
    expect(received).toEqual(['Bearer stale']);
    stub.close();
  });
});
