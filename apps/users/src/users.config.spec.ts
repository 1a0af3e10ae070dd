import { resourceServerConfigCases } from '../../../test/support/resource-server-config.cases';
import { loadUsersConfig } from './users.config';

resourceServerConfigCases('users', loadUsersConfig, { grpcTarget: 'ORDERS_GRPC_URL' });
