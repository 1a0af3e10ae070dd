import { ApiError } from '@app/platform';
import { Metadata } from '@grpc/grpc-js';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { ClientGrpc } from '@nestjs/microservices';
import { firstValueFrom, type Observable } from 'rxjs';
import { USERS_CONFIG, type UsersConfig } from '../users.config';
import { ORDERS_GRPC_CLIENT } from './orders-client.constants';

interface OrdersServiceStub {
  countOpenOrders(
    request: { userId: string },
    metadata: Metadata,
    options: { deadline: Date },
  ): Observable<{ count: number }>;
}

/**
 * users' client of orders.v1.OrdersService (proto/orders/v1/orders.proto). Every call carries
 * a client-credentials token (audience orders, scope orders:read) attached by
 * serviceTokenInterceptor, and a deadline (ORDERS_GRPC_DEADLINE_MS).
 */
@Injectable()
export class OrdersGrpcClient implements OnModuleInit {
  private readonly logger = new Logger('OrdersGrpcClient');
  private stub!: OrdersServiceStub;

  constructor(
    @Inject(ORDERS_GRPC_CLIENT) private readonly client: ClientGrpc,
    @Inject(USERS_CONFIG) private readonly config: UsersConfig,
  ) {}

  onModuleInit(): void {
    this.stub = this.client.getService<OrdersServiceStub>('OrdersService');
  }

  /**
   * The user's open orders. Any failure (orders down, deadline passed, our token refused) is a
   * 503: the caller cannot know whether deleting is safe, so it must not delete.
   */
  async countOpenOrders(userId: string): Promise<number> {
    const deadline = new Date(Date.now() + this.config.ORDERS_GRPC_DEADLINE_MS);
    try {
      const { count } = await firstValueFrom(
        this.stub.countOpenOrders({ userId }, new Metadata(), { deadline }),
      );
      return count;
    } catch (error) {
      const { code, details } = error as { code?: number; details?: string };
      this.logger.warn({ code, details }, 'orders CountOpenOrders failed');
      throw new ApiError(503, 'orders service unavailable: nothing was deleted, try again later', {
        headers: { 'Retry-After': '5' },
      });
    }
  }
}
