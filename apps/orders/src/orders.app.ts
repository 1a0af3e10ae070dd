import { createServiceApp, loadGrpcTls, type ServiceAppOptions } from '@app/platform';
import type { OrdersConfig } from './orders.config';
import { OrdersModule } from './orders.module';

export function ordersAppOptions(config: OrdersConfig): ServiceAppOptions {
  // Read once: the gRPC server and the module's gRPC client use the same certificate.
  const grpcTls = loadGrpcTls(config);
  return {
    serviceName: 'orders',
    module: OrdersModule.forRoot(config, grpcTls),
    config,
    grpc: {
      packageName: 'orders.v1',
      protoFile: 'orders/v1/orders.proto',
      port: config.GRPC_PORT,
      tls: grpcTls,
      // SPEC §5: only users calls orders over gRPC (its certificate names it).
      clients: ['users'],
    },
    openApi: {
      title: 'orders',
      description: 'Catalog and orders: REST for clients, gRPC for services.',
    },
  };
}

export function createOrdersApp(config: OrdersConfig) {
  return createServiceApp(ordersAppOptions(config));
}
