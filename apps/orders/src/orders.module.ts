import {
  DatabaseModule,
  grpcClientOptions,
  MessagingModule,
  PlatformModule,
  RateLimitModule,
  SUBJECTS,
  type GrpcTlsSetting,
} from '@app/platform';
import { SecurityModule, ServiceTokenClient, serviceTokenInterceptor } from '@app/security';
import { DynamicModule, Module } from '@nestjs/common';
import { ClientsModule } from '@nestjs/microservices';
import { CatalogHttpController } from './catalog/catalog.http.controller';
import { ordersDataSourceOptions, ordersRetention } from './database/orders-data-source';
import { ORDERS_CONFIG, type OrdersConfig } from './orders.config';
import { OrdersEventsController } from './orders/orders.events.controller';
import { OrdersGrpcController } from './orders/orders.grpc.controller';
import { OrdersHttpController } from './orders/orders.http.controller';
import { OrdersPolicy } from './orders/orders.policy';
import { OrdersService } from './orders/orders.service';
import { OrderRateLimiter } from './rate-limit/order-rate-limiter';
import { USERS_GRPC_CLIENT } from './users-client/users-client.constants';
import { UsersGrpcClient } from './users-client/users.grpc.client';

@Module({})
export class OrdersModule {
  /** `grpcTls`: how its gRPC client to the other service talks (`loadGrpcTls(config)`). */
  static forRoot(config: OrdersConfig, grpcTls: GrpcTlsSetting): DynamicModule {
    return {
      module: OrdersModule,
      imports: [
        PlatformModule.forRoot({
          serviceName: 'orders',
          logLevel: config.LOG_LEVEL,
          metricsToken: config.METRICS_TOKEN,
          metricsTokenPrevious: config.METRICS_TOKEN_PREVIOUS,
        }),
        DatabaseModule.forRoot(ordersDataSourceOptions(config.DATABASE_URL), {
          retention: ordersRetention(config.IDEMPOTENCY_KEY_TTL_SECONDS),
        }),
        MessagingModule.forRoot({
          serviceName: 'orders',
          url: config.NATS_URL,
          user: config.NATS_USER,
          password: config.NATS_PASSWORD,
          caFile: config.NATS_CA_FILE,
          ownStreams: ['ORDERS'],
          consumers: [
            // users.deleted → anonymize the customer's orders; shared by every orders replica.
            {
              stream: 'USERS',
              durable: 'orders-users-deleted',
              filterSubject: SUBJECTS.USER_DELETED,
            },
          ],
        }),
        // Shared by every replica through Redis (SPEC §7); in-process without REDIS_URL.
        RateLimitModule.forRoot({ redisUrl: config.REDIS_URL, keyPrefix: 'orders:rl:' }),
        SecurityModule.forRoot({
          issuer: config.AUTH_ISSUER,
          audience: 'orders',
          policies: [OrdersPolicy],
          client: config.CLIENT_SECRET
            ? { id: config.CLIENT_ID, secret: config.CLIENT_SECRET }
            : undefined,
        }),
        ClientsModule.registerAsync([
          {
            name: USERS_GRPC_CLIENT,
            inject: [ServiceTokenClient],
            // Calls carry a client-credentials token for users (or an exchanged one set per call).
            useFactory: (tokens: ServiceTokenClient) =>
              grpcClientOptions(
                'users.v1',
                'users/v1/users.proto',
                config.USERS_GRPC_URL,
                [serviceTokenInterceptor(tokens, 'users', 'users:read')],
                grpcTls,
              ),
          },
        ]),
      ],
      controllers: [
        CatalogHttpController,
        OrdersHttpController,
        OrdersGrpcController,
        OrdersEventsController,
      ],
      providers: [
        { provide: ORDERS_CONFIG, useValue: config },
        OrderRateLimiter,
        UsersGrpcClient,
        OrdersService,
      ],
      exports: [UsersGrpcClient],
    };
  }
}
