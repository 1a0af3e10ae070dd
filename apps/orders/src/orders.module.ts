import { DatabaseModule, grpcClientOptions, MessagingModule, PlatformModule } from '@app/platform';
import { SecurityModule, ServiceTokenClient, serviceTokenInterceptor } from '@app/security';
import { DynamicModule, Module } from '@nestjs/common';
import { ClientsModule } from '@nestjs/microservices';
import { CatalogHttpController } from './catalog/catalog.http.controller';
import { ordersDataSourceOptions } from './database/orders-data-source';
import { ORDERS_CONFIG, type OrdersConfig } from './orders.config';
import { USERS_GRPC_CLIENT } from './users-client/users-client.constants';
import { UsersGrpcClient } from './users-client/users.grpc.client';

@Module({})
export class OrdersModule {
  static forRoot(config: OrdersConfig): DynamicModule {
    return {
      module: OrdersModule,
      imports: [
        PlatformModule.forRoot({ serviceName: 'orders', logLevel: config.LOG_LEVEL }),
        DatabaseModule.forRoot(ordersDataSourceOptions(config.DATABASE_URL)),
        MessagingModule.forRoot({
          serviceName: 'orders',
          url: config.NATS_URL,
          user: config.NATS_USER,
          password: config.NATS_PASSWORD,
          ownStreams: ['ORDERS'],
          consumers: [],
        }),
        SecurityModule.forRoot({
          issuer: config.AUTH_ISSUER,
          audience: 'orders',
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
              grpcClientOptions('users.v1', 'users/v1/users.proto', config.USERS_GRPC_URL, [
                serviceTokenInterceptor(tokens, 'users', 'users:read'),
              ]),
          },
        ]),
      ],
      controllers: [CatalogHttpController],
      providers: [{ provide: ORDERS_CONFIG, useValue: config }, UsersGrpcClient],
      exports: [UsersGrpcClient],
    };
  }
}
