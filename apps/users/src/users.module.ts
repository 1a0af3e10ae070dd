import {
  DatabaseModule,
  grpcClientOptions,
  MessagingModule,
  PlatformModule,
  type GrpcTlsSetting,
} from '@app/platform';
import { SecurityModule, ServiceTokenClient, serviceTokenInterceptor } from '@app/security';
import { DynamicModule, Module } from '@nestjs/common';
import { ClientsModule } from '@nestjs/microservices';
import { TypeOrmModule } from '@nestjs/typeorm';
import { usersDataSourceOptions } from './database/users-data-source';
import { ORDERS_GRPC_CLIENT } from './orders-client/orders-client.constants';
import { OrdersGrpcClient } from './orders-client/orders.grpc.client';
import { USERS_CONFIG, type UsersConfig } from './users.config';
import { UserProfile } from './users/user-profile.entity';
import { UsersEventsController } from './users/users.events.controller';
import { UsersGrpcController } from './users/users.grpc.controller';
import { UsersHttpController } from './users/users.http.controller';
import { UsersPolicy } from './users/users.policy';
import { UsersService } from './users/users.service';

@Module({})
export class UsersModule {
  /** `grpcTls`: how its gRPC client to the other service talks (`loadGrpcTls(config)`). */
  static forRoot(config: UsersConfig, grpcTls: GrpcTlsSetting): DynamicModule {
    return {
      module: UsersModule,
      imports: [
        PlatformModule.forRoot({
          serviceName: 'users',
          logLevel: config.LOG_LEVEL,
          metricsToken: config.METRICS_TOKEN,
          metricsTokenPrevious: config.METRICS_TOKEN_PREVIOUS,
        }),
        DatabaseModule.forRoot(usersDataSourceOptions(config.DATABASE_URL)),
        MessagingModule.forRoot({
          serviceName: 'users',
          url: config.NATS_URL,
          user: config.NATS_USER,
          password: config.NATS_PASSWORD,
          caFile: config.NATS_CA_FILE,
          ownStreams: ['USERS'],
          consumers: [
            { stream: 'AUTH', durable: 'users-identity', filterSubject: 'auth.identity.>' },
          ],
        }),
        SecurityModule.forRoot({
          issuer: config.AUTH_ISSUER,
          audience: 'users',
          client: config.CLIENT_SECRET
            ? { id: config.CLIENT_ID, secret: config.CLIENT_SECRET }
            : undefined,
          policies: [UsersPolicy],
        }),
        TypeOrmModule.forFeature([UserProfile]),
        ClientsModule.registerAsync([
          {
            name: ORDERS_GRPC_CLIENT,
            inject: [ServiceTokenClient],
            // SPEC §5: CountOpenOrders with a client-credentials token, scope orders:read.
            useFactory: (tokens: ServiceTokenClient) =>
              grpcClientOptions(
                'orders.v1',
                'orders/v1/orders.proto',
                config.ORDERS_GRPC_URL,
                [serviceTokenInterceptor(tokens, 'orders', 'orders:read')],
                grpcTls,
              ),
          },
        ]),
      ],
      controllers: [UsersHttpController, UsersEventsController, UsersGrpcController],
      providers: [{ provide: USERS_CONFIG, useValue: config }, UsersService, OrdersGrpcClient],
    };
  }
}
