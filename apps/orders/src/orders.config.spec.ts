import { resourceServerConfigCases } from '../../../test/support/resource-server-config.cases';
import { loadOrdersConfig } from './orders.config';

// orders also needs Redis in production: its rate limits are shared by every replica.
resourceServerConfigCases('orders', loadOrdersConfig, {
  grpcTarget: 'USERS_GRPC_URL',
  extraProduction: { REDIS_URL: 'redis://h:6379' },
});
