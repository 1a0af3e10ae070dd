import {
  InboxKeyedBySubject1765152000000,
  type RetentionRule,
  serviceDataSourceOptions,
} from '@app/platform';
import { IdempotencyKey } from '../orders/idempotency-key.entity';
import { OrderItem } from '../orders/order-item.entity';
import { Order } from '../orders/order.entity';
import { Initial1764057600000 } from './migrations/1764057600000-initial';
import { Orders1764403200000 } from './migrations/1764403200000-orders';
import { DeletedCustomers1764835200000 } from './migrations/1764835200000-deleted-customers';

/** Entities and migrations of the orders database, listed explicitly (no globs: they break in dist/). */
export const ORDERS_ENTITIES = [Order, OrderItem, IdempotencyKey];
export const ORDERS_MIGRATIONS = [
  Initial1764057600000,
  Orders1764403200000,
  DeletedCustomers1764835200000,
  InboxKeyedBySubject1765152000000,
];

/** Idempotency keys are deleted once they are past their TTL (DatabaseModule's sweeper). */
export function ordersRetention(idempotencyKeyTtlSeconds: number): RetentionRule[] {
  return [
    { table: 'idempotency_keys', column: 'created_at', keepSeconds: idempotencyKeyTtlSeconds },
  ];
}

export function ordersDataSourceOptions(url: string) {
  return {
    url,
    entities: ORDERS_ENTITIES,
    migrations: ORDERS_MIGRATIONS,
    applicationName: 'orders',
  };
}

export function ordersDataSource(url: string) {
  return serviceDataSourceOptions(ordersDataSourceOptions(url));
}
