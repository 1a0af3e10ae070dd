import { CheckPolicies, CurrentAbility, Scopes, type AppAbility } from '@app/security';
import { Controller } from '@nestjs/common';
import { GrpcMethod, Payload } from '@nestjs/microservices';
import { CountOpenOrdersRequest } from './dto/count-open-orders.request';
import { OrdersService } from './orders.service';

/** orders.v1.OrdersService (proto/orders/v1/orders.proto). */
@Controller()
export class OrdersGrpcController {
  constructor(private readonly orders: OrdersService) {}

  /**
   * Services only. A user's login token also carries the scope string `orders:read`, so the
   * scope alone is not enough: `count` is granted by the policy's scope rules, which apply to
   * client-credentials (service) principals only; a user or delegated caller gets
   * PERMISSION_DENIED.
   */
  @Scopes('orders:read')
  @CheckPolicies((ability: AppAbility) => ability.can('count', 'Order'))
  @GrpcMethod('OrdersService', 'CountOpenOrders')
  async countOpenOrders(
    @Payload() request: CountOpenOrdersRequest,
    @CurrentAbility() ability: AppAbility,
  ): Promise<{ count: number }> {
    return { count: await this.orders.countOpen(ability, request.userId) };
  }
}
