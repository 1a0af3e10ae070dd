import 'reflect-metadata';
import { runService } from '@app/platform';
import { ordersAppOptions } from './orders.app';
import { loadOrdersConfig } from './orders.config';

void runService(ordersAppOptions(loadOrdersConfig())).catch((error: Error) => {
  process.stderr.write(`orders failed to start: ${error.message}\n`);
  process.exit(1);
});
