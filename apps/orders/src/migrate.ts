import 'reflect-metadata';
import { migrateAndExit } from '@app/platform';
import { ordersDataSource } from './database/orders-data-source';

const url = process.env.DATABASE_URL;
if (!url) {
  process.stderr.write('DATABASE_URL: is required (postgres://user:password@host:port/orders)\n');
  process.exit(1);
}
void migrateAndExit('orders', ordersDataSource(url));
