import { serviceDataSourceOptions } from '@app/platform';
import { Initial1764057600000 } from './migrations/1764057600000-initial';

/** Entities and migrations of the orders database, listed explicitly (no globs: they break in dist/). */
export const ORDERS_ENTITIES = [];
export const ORDERS_MIGRATIONS = [Initial1764057600000];

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
