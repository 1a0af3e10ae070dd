import { createServiceApp, loadGrpcTls, type ServiceAppOptions } from '@app/platform';
import type { UsersConfig } from './users.config';
import { UsersModule } from './users.module';

export function usersAppOptions(config: UsersConfig): ServiceAppOptions {
  // Read once: the gRPC server and the module's gRPC client use the same certificate.
  const grpcTls = loadGrpcTls(config);
  return {
    serviceName: 'users',
    module: UsersModule.forRoot(config, grpcTls),
    config,
    grpc: {
      packageName: 'users.v1',
      protoFile: 'users/v1/users.proto',
      port: config.GRPC_PORT,
      tls: grpcTls,
      // SPEC §5: only orders calls users over gRPC (its certificate names it).
      clients: ['orders'],
    },
    openApi: { title: 'users', description: 'Profiles: REST for clients, gRPC for services.' },
  };
}

export function createUsersApp(config: UsersConfig) {
  return createServiceApp(usersAppOptions(config));
}
