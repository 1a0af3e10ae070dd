import {
  ApiError,
  decodeKeysetCursor,
  encodeKeysetCursor,
  InboxService,
  OutboxService,
  SUBJECTS,
} from '@app/platform';
import {
  accessibleBy,
  accessTokenOf,
  authorize,
  ServiceTokenClient,
  type AppAbility,
  type UserPrincipal,
} from '@app/security';
import { subject } from '@casl/ability';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { DataSource, In, type EntityManager } from 'typeorm';
import { findCatalogItem } from '../catalog/catalog';
import { ORDERS_CONFIG, type OrdersConfig } from '../orders.config';
import { OrderRateLimiter } from '../rate-limit/order-rate-limiter';
import { UsersGrpcClient } from '../users-client/users.grpc.client';
import type { CreateOrderDto } from './dto/create-order.dto';
import type { OrderPage, OrderView } from './dto/order.view';
import { IdempotencyKey } from './idempotency-key.entity';
import { OrderItem } from './order-item.entity';
import { ORDER_STATUSES, OPEN_STATUSES, type OrderStatus } from './order-status';
import { Order } from './order.entity';

/** Admin-and-owner state changes: the action the policy checks and the state it leads to. */
const TRANSITIONS = {
  cancel: { to: 'cancelled', event: SUBJECTS.ORDER_CANCELLED },
  confirm: { to: 'confirmed', event: undefined },
  ship: { to: 'shipped', event: undefined },
} as const satisfies Record<string, { to: OrderStatus; event: string | undefined }>;

export type OrderTransition = keyof typeof TRANSITIONS;

export interface PlacedOrder {
  statusCode: number;
  body: OrderView;
  replayed: boolean;
}

/** Thrown inside the order transaction when a concurrent request took the same key first. */
class IdempotencyKeyTaken extends Error {}

/** The Order as a CASL subject: policies match on userId, region and status. */
export const asOrderSubject = <T extends object>(order: T) => subject('Order', order);

@Injectable()
export class OrdersService {
  private readonly logger = new Logger('Orders');

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxService,
    private readonly inbox: InboxService,
    private readonly users: UsersGrpcClient,
    private readonly tokens: ServiceTokenClient,
    private readonly rateLimiter: OrderRateLimiter,
    @Inject(ORDERS_CONFIG) private readonly config: OrdersConfig,
  ) {}

  /**
   * Places an order for the calling customer. Prices come from the catalog; the customer's
   * region comes from users, asked with a token exchanged for the customer (RFC 8693) so users
   * applies the customer's own rights. Nothing is written unless users answered; the order,
   * its items, the idempotency record and `orders.created` commit together.
   */
  async place(
    caller: UserPrincipal,
    input: CreateOrderDto,
    idempotencyKey: string | undefined,
  ): Promise<PlacedOrder> {
    const lines = this.priceLines(input);
    const requestHash = createHash('sha256')
      .update(JSON.stringify(lines.map((line) => [line.sku, line.quantity])))
      .digest('hex');
    if (idempotencyKey) {
      const replay = await this.replay(
        this.dataSource.manager,
        caller.id,
        idempotencyKey,
        requestHash,
      );
      if (replay) return replay;
    }
    await this.rateLimiter.consume(caller.id);
    const region = await this.customerRegion(caller);

    const now = new Date();
    const order: Omit<Order, 'items'> = {
      id: randomUUID(),
      userId: caller.id,
      region,
      status: 'pending',
      currency: 'EUR',
      total: lines.reduce((sum, line) => sum + line.lineTotal, 0),
      createdAt: now,
      updatedAt: now,
      anonymizedAt: null,
    };
    const items = lines.map((line, index) => ({ ...line, orderId: order.id, line: index + 1 }));
    const body = toView({ ...order, items } as Order);
    try {
      await this.dataSource.transaction(async (manager) => {
        await this.refuseDeletedCustomer(manager, caller.id);
        if (idempotencyKey)
          await this.claimKey(manager, caller.id, idempotencyKey, requestHash, body);
        await manager.insert(Order, order);
        await manager.insert(OrderItem, items);
        await this.outbox.enqueue(manager, SUBJECTS.ORDER_CREATED, {
          orderId: order.id,
          userId: order.userId,
          region: order.region,
          status: order.status,
          currency: order.currency,
          total: order.total,
          items: items.map(({ sku, quantity, unitPrice }) => ({ sku, quantity, unitPrice })),
        });
      });
    } catch (error) {
      if (!(error instanceof IdempotencyKeyTaken)) throw error;
      // A concurrent request with the same key committed first: answer as it did.
      const replay = await this.replay(
        this.dataSource.manager,
        caller.id,
        idempotencyKey!,
        requestHash,
      );
      if (replay) return replay;
      throw new ApiError(409, 'a request with this Idempotency-Key is in progress', {
        code: 'IDEMPOTENCY_KEY_IN_USE',
      });
    }
    return { statusCode: 201, body, replayed: false };
  }

  /** GET /orders: what the caller may read, filtered in SQL, newest first, keyset-paginated. */
  async list(
    ability: AppAbility,
    limit: number | undefined,
    cursor: string | undefined,
  ): Promise<OrderPage> {
    const pageSize = Math.min(
      limit ?? this.config.ORDERS_PAGE_SIZE_DEFAULT,
      this.config.ORDERS_PAGE_SIZE_MAX,
    );
    const qb = this.dataSource.getRepository(Order).createQueryBuilder('o');
    if (cursor) {
      const after = decodeKeysetCursor(cursor);
      qb.where('(o.created_at, o.id) < (:at, :id)', after);
    }
    const rows = await accessibleBy(qb, ability, 'read', 'Order')
      .orderBy('o.created_at', 'DESC')
      .addOrderBy('o.id', 'DESC')
      .limit(pageSize + 1)
      .getMany();
    const page = rows.slice(0, pageSize);
    await this.loadItems(this.dataSource.manager, page);
    const last = page.at(-1);
    return {
      items: page.map(toView),
      nextCursor:
        rows.length > pageSize && last
          ? encodeKeysetCursor({ at: last.createdAt, id: last.id })
          : null,
    };
  }

  /** The order as a CASL subject, or null: the caller's right to read it is checked by the route. */
  async findOne(id: string): Promise<(OrderView & object) | null> {
    const order = await this.dataSource.getRepository(Order).findOne({
      where: { id },
      relations: { items: true },
      order: { items: { line: 'ASC' } },
    });
    return order ? asOrderSubject(toView(order)) : null;
  }

  /**
   * cancel / confirm / ship, on the locked row. 404 if the caller may not read the order,
   * 409 if the policy lets them do it in another state, 403 if it never does.
   */
  async transition(ability: AppAbility, id: string, action: OrderTransition): Promise<OrderView> {
    const { to, event } = TRANSITIONS[action];
    return this.dataSource.transaction(async (manager) => {
      const order = await manager
        .getRepository(Order)
        .createQueryBuilder('o')
        .setLock('pessimistic_write')
        .where('o.id = :id', { id })
        .getOne();
      const current = order && asOrderSubject({ ...order });
      authorize(ability, 'read', current);
      if (!ability.can(action, current!)) {
        const inAnotherState = ORDER_STATUSES.some((status) =>
          ability.can(action, asOrderSubject({ ...order!, status })),
        );
        if (inAnotherState) {
          throw new ApiError(409, `cannot ${action} an order that is ${order!.status}`, {
            code: 'ORDER_STATE_CONFLICT',
          });
        }
      }
      authorize(ability, action, current);
      const from = order!.status;
      order!.status = to;
      order!.updatedAt = new Date();
      await manager.update(Order, { id }, { status: to, updatedAt: order!.updatedAt });
      if (event) {
        await this.outbox.enqueue(manager, event, {
          orderId: order!.id,
          userId: order!.userId,
          region: order!.region,
          previousStatus: from,
          status: to,
        });
      }
      await this.loadItems(manager, [order!]);
      return toView(order!);
    });
  }

  /** CountOpenOrders: the user's orders that are still to be fulfilled (OPEN_STATUSES). */
  countOpen(ability: AppAbility, userId: string): Promise<number> {
    const qb = this.dataSource
      .getRepository(Order)
      .createQueryBuilder('o')
      .where('o.user_id = :userId AND o.status IN (:...open)', { userId, open: OPEN_STATUSES });
    return accessibleBy(qb, ability, 'count', 'Order').getCount();
  }

  /**
   * users.deleted: the customer's orders lose their link to the person (user id) but keep
   * amounts, items and region for accounting; their stored idempotent answers (which name
   * the user) are deleted. Once per message id, in the same transaction as the inbox record.
   *
   * users refuses to delete an account with open orders, but an order placed at that moment
   * (its profile read just before the deletion) can still commit: such an order is cancelled
   * here, and the customer is recorded so that no order is placed for them afterwards.
   */
  async anonymizeCustomer(
    messageId: string,
    subjectName: string,
    userId: string,
  ): Promise<boolean> {
    return this.inbox.processOnce(messageId, subjectName, async (manager) => {
      await this.lockCustomer(manager, userId);
      await manager.query(
        'INSERT INTO deleted_customers (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING',
        [userId],
      );
      // Locked as transition() locks them: a concurrent ship or cancel either commits first (and
      // PostgreSQL re-reads the row, no longer open, so it is skipped) or waits for this one.
      // No lock order is needed: transition() locks one order, and lockCustomer() above queues
      // every other deletion of this customer.
      const open = await manager
        .getRepository(Order)
        .createQueryBuilder('o')
        .setLock('pessimistic_write')
        .where('o.user_id = :userId AND o.status IN (:...open)', { userId, open: OPEN_STATUSES })
        .getMany();
      for (const order of open) {
        await manager.update(Order, { id: order.id }, { status: 'cancelled' });
        await this.outbox.enqueue(manager, SUBJECTS.ORDER_CANCELLED, {
          orderId: order.id,
          userId: order.userId,
          region: order.region,
          previousStatus: order.status,
          status: 'cancelled',
        });
      }
      const result = await manager
        .createQueryBuilder()
        .update(Order)
        .set({ userId: null, anonymizedAt: () => 'now()', updatedAt: () => 'now()' })
        .where('user_id = :userId', { userId })
        .execute();
      await manager.delete(IdempotencyKey, { userId });
      this.logger.log({ messageId, orders: result.affected ?? 0 }, 'customer anonymized');
    });
  }

  private priceLines(input: CreateOrderDto) {
    const seen = new Set<string>();
    return input.items.map((item, index) => {
      if (seen.has(item.sku)) {
        throw new ApiError(400, `items.${index}.sku repeats ${item.sku}; give each sku once`);
      }
      seen.add(item.sku);
      const product = findCatalogItem(item.sku);
      if (!product) throw new ApiError(400, `items.${index}.sku is not in the catalog`);
      return {
        sku: product.sku,
        name: product.name,
        unitPrice: product.price,
        quantity: item.quantity,
        lineTotal: product.price * item.quantity,
      };
    });
  }

  /**
   * Serializes placing an order with users.deleted for one customer (a transaction-scoped
   * advisory lock): either the order commits first and the deletion cancels it, or the
   * deletion does and the order is refused.
   */
  private async lockCustomer(manager: EntityManager, userId: string): Promise<void> {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended('customer:' || $1, 0))`, [
      userId,
    ]);
  }

  private async refuseDeletedCustomer(manager: EntityManager, userId: string): Promise<void> {
    await this.lockCustomer(manager, userId);
    const deleted: unknown[] = await manager.query(
      'SELECT 1 FROM deleted_customers WHERE user_id = $1',
      [userId],
    );
    if (deleted.length > 0) {
      throw new ApiError(409, 'your account has been deleted', { code: 'PROFILE_NOT_FOUND' });
    }
  }

  /** RFC 8693: the customer's own token, exchanged for one addressed to users. */
  private async customerRegion(caller: UserPrincipal): Promise<string> {
    const subjectToken = accessTokenOf(caller);
    if (!subjectToken) throw new Error('the caller has no access token to exchange');
    let token: string;
    try {
      token = await this.tokens.exchange(subjectToken, 'users', 'users:read');
    } catch (error) {
      throw new ApiError(503, 'users service unavailable', { cause: error });
    }
    const profile = await this.users.getUser(caller.id, { token });
    if (!profile || profile.id !== caller.id) {
      throw new ApiError(409, 'your profile is not available yet; try again shortly', {
        code: 'PROFILE_NOT_FOUND',
      });
    }
    return profile.region;
  }

  private async replay(
    manager: EntityManager,
    userId: string,
    key: string,
    requestHash: string,
  ): Promise<PlacedOrder | null> {
    const stored = await manager.findOneBy(IdempotencyKey, { userId, key });
    if (!stored || this.isExpired(stored)) return null;
    if (stored.requestHash !== requestHash) {
      // draft-ietf-httpapi-idempotency-key-header §2.7: key reused with another payload → 422.
      throw new ApiError(422, 'Idempotency-Key was already used with a different request body', {
        code: 'IDEMPOTENCY_KEY_REUSED',
      });
    }
    return { statusCode: stored.statusCode, body: stored.response as OrderView, replayed: true };
  }

  /** Inside the order's transaction: a concurrent request with the same key waits here, then loses. */
  private async claimKey(
    manager: EntityManager,
    userId: string,
    key: string,
    requestHash: string,
    response: OrderView,
  ): Promise<void> {
    await manager.query(
      `DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2
         AND created_at < now() - make_interval(secs => $3)`,
      [userId, key, this.config.IDEMPOTENCY_KEY_TTL_SECONDS],
    );
    const claimed: unknown[] = await manager.query(
      `INSERT INTO idempotency_keys (user_id, key, request_hash, status_code, response)
       VALUES ($1, $2, $3, 201, $4) ON CONFLICT (user_id, key) DO NOTHING RETURNING key`,
      [userId, key, requestHash, JSON.stringify(response)],
    );
    if (claimed.length === 0) throw new IdempotencyKeyTaken();
  }

  private isExpired(stored: IdempotencyKey): boolean {
    return stored.createdAt.getTime() + this.config.IDEMPOTENCY_KEY_TTL_SECONDS * 1000 < Date.now();
  }

  private async loadItems(manager: EntityManager, orders: Order[]): Promise<void> {
    if (orders.length === 0) return;
    const items = await manager.find(OrderItem, {
      where: { orderId: In(orders.map((order) => order.id)) },
      order: { line: 'ASC' },
    });
    for (const order of orders) order.items = items.filter((item) => item.orderId === order.id);
  }
}

export function toView(order: Order): OrderView {
  return {
    id: order.id,
    userId: order.userId,
    region: order.region,
    status: order.status,
    currency: order.currency,
    total: order.total,
    items: order.items.map(({ sku, name, unitPrice, quantity, lineTotal }) => ({
      sku,
      name,
      unitPrice,
      quantity,
      lineTotal,
    })),
    createdAt: order.createdAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
  };
}
