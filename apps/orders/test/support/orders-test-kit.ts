import { protoDir, protoFile } from '@app/platform';
import { credentials, loadPackageDefinition, Metadata, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { headers as natsHeaders, type NatsConnection, type PubAck } from 'nats';
import { randomUUID } from 'node:crypto';
export { eventually } from '../../../../test/support/eventually';

export interface HttpResult<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T & { error: { code: string; message: string; requestId: string } };
}

/** A JSON call to an HTTP service, with an optional bearer token. */
export function httpClient(baseUrl: () => string) {
  return async function http<T = Record<string, unknown>>(
    path: string,
    init: {
      method?: string;
      token?: string;
      body?: unknown;
      headers?: Record<string, string>;
    } = {},
  ): Promise<HttpResult<T>> {
    const headers = new Headers(init.headers);
    if (init.token) headers.set('authorization', `Bearer ${init.token}`);
    if (init.body !== undefined) headers.set('content-type', 'application/json');
    const response = await fetch(`${baseUrl()}${path}`, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: (text ? JSON.parse(text) : {}) as HttpResult<T>['body'],
    };
  };
}

/** orders.v1.OrdersService/CountOpenOrders over a raw grpc-js client: the status code as the caller sees it. */
export function countOpenOrders(
  grpcUrl: string,
  userId: string,
  token?: string,
): Promise<{ code: number; count?: number }> {
  // proto-loader camel-cases fields (user_id → userId) unless keepCase is set.
  const definition = loadSync(protoFile('orders/v1/orders.proto'), { includeDirs: [protoDir()] });
  const pkg = loadPackageDefinition(definition) as unknown as {
    orders: { v1: { OrdersService: new (url: string, creds: unknown) => never } };
  };
  const client = new pkg.orders.v1.OrdersService(grpcUrl, credentials.createInsecure()) as {
    CountOpenOrders(
      request: { userId: string },
      metadata: Metadata,
      callback: (error: ServiceError | null, value?: { count: number }) => void,
    ): void;
    close(): void;
  };
  const metadata = new Metadata();
  if (token) metadata.set('authorization', `Bearer ${token}`);
  return new Promise((resolve) =>
    client.CountOpenOrders({ userId }, metadata, (error, value) => {
      client.close();
      resolve({ code: error?.code ?? 0, count: value?.count });
    }),
  );
}

/** Publishes straight to JetStream, as any NATS client could: the token is the test's choice. */
export async function publishEvent(
  nc: NatsConnection,
  subject: string,
  payload: unknown,
  token?: string,
  messageId: string = randomUUID(),
): Promise<PubAck & { messageId: string }> {
  const headers = natsHeaders();
  if (token) headers.set('Authorization', `Bearer ${token}`);
  const ack = await nc
    .jetstream()
    .publish(subject, Buffer.from(JSON.stringify(payload)), { msgID: messageId, headers });
  return Object.assign(ack, { messageId });
}

/** The claims of a compact JWS, unverified (the fake users server verified it already). */
export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}
