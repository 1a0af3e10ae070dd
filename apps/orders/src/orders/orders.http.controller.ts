import { ApiError } from '@app/platform';
import {
  authorize,
  CheckPolicies,
  CurrentAbility,
  CurrentPrincipal,
  type AppAbility,
  type Principal,
} from '@app/security';
import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CreateOrderDto } from './dto/create-order.dto';
import { ListOrdersQuery } from './dto/list-orders.query';
import { OrderPage, OrderView } from './dto/order.view';
import { OrdersService, type OrderTransition } from './orders.service';

/** RFC 9110 token-ish characters only: a key is stored and compared, never interpreted. */
const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:~-]{1,128}$/;

const uuid = new ParseUUIDPipe();

@ApiTags('orders')
@ApiBearerAuth()
@Controller('orders')
export class OrdersHttpController {
  constructor(private readonly orders: OrdersService) {}

  @Post()
  @CheckPolicies((ability: AppAbility) => ability.can('create', 'Order'))
  @ApiOperation({ summary: 'Place an order for yourself; prices come from the catalog' })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      '1..128 of [A-Za-z0-9._:~-]. A replay by the same user with the same body returns the same status and body (header Idempotent-Replayed: true); with another body: 422. Remembered IDEMPOTENCY_KEY_TTL_SECONDS (24 h).',
  })
  @ApiCreatedResponse({ type: OrderView })
  @ApiForbiddenResponse({ description: 'not a customer, or not the customer’s own token' })
  @ApiUnprocessableEntityResponse({ description: 'Idempotency-Key reused with another body' })
  @ApiTooManyRequestsResponse({ description: 'ORDERS_RATE_LIMIT_MAX per window; Retry-After' })
  async place(
    @Body() input: CreateOrderDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @CurrentPrincipal() caller: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<OrderView> {
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new ApiError(400, 'Idempotency-Key must be 1..128 characters of [A-Za-z0-9._:~-]');
    }
    // Only the customer's own login token: it is what users will see exchanged (act = orders).
    if (caller.kind !== 'user') {
      throw new ApiError(403, 'orders are placed with the customer’s own access token');
    }
    const placed = await this.orders.place(caller, input, idempotencyKey);
    reply.status(placed.statusCode);
    if (placed.replayed) reply.header('Idempotent-Replayed', 'true');
    return placed.body;
  }

  @Get()
  @ApiOperation({
    summary: 'Orders you may read (customer: own; support: your region; admin: all), newest first',
  })
  @ApiOkResponse({ type: OrderPage })
  list(@Query() query: ListOrdersQuery, @CurrentAbility() ability: AppAbility): Promise<OrderPage> {
    return this.orders.list(ability, query.limit, query.cursor);
  }

  @Get(':id')
  @ApiOkResponse({ type: OrderView })
  @ApiNotFoundResponse({ description: 'no such order, or not yours to see' })
  async get(@Param('id', uuid) id: string, @CurrentAbility() ability: AppAbility) {
    const order = await this.orders.findOne(id);
    // Checked on the loaded order: one the caller may not read is a 404, like a missing one.
    // authorize() rather than a result-checking @CheckPolicies: that one is a Nest interceptor,
    // which cost this route more than the whole token check (bench/security.bench.ts).
    authorize(ability, 'read', order);
    return order;
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel: the owner while pending, an admin while not shipped' })
  @ApiOkResponse({ type: OrderView })
  @ApiNotFoundResponse({ description: 'no such order, or not yours to see' })
  @ApiForbiddenResponse({ description: 'you may see the order but never cancel it (support)' })
  @ApiConflictResponse({ description: 'not in a state you may cancel it from' })
  cancel(@Param('id', uuid) id: string, @CurrentAbility() ability: AppAbility) {
    return this.transition(ability, id, 'cancel');
  }

  @Post(':id/confirm')
  @HttpCode(200)
  @ApiOperation({ summary: 'Extension: admin confirms a pending order' })
  @ApiOkResponse({ type: OrderView })
  confirm(@Param('id', uuid) id: string, @CurrentAbility() ability: AppAbility) {
    return this.transition(ability, id, 'confirm');
  }

  @Post(':id/ship')
  @HttpCode(200)
  @ApiOperation({ summary: 'Extension: admin ships a confirmed order' })
  @ApiOkResponse({ type: OrderView })
  ship(@Param('id', uuid) id: string, @CurrentAbility() ability: AppAbility) {
    return this.transition(ability, id, 'ship');
  }

  private transition(ability: AppAbility, id: string, action: OrderTransition) {
    return this.orders.transition(ability, id, action);
  }
}
