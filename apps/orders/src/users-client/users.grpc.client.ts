import { Metadata } from '@grpc/grpc-js';
import { ApiError, GRPC_STATUS } from '@app/platform';
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { ClientGrpc } from '@nestjs/microservices';
import { firstValueFrom, type Observable } from 'rxjs';
import { ORDERS_CONFIG, type OrdersConfig } from '../orders.config';
import { USERS_GRPC_CLIENT } from './users-client.constants';

export interface UserView {
  id: string;
  email: string;
  displayName: string;
  locale: string;
  region: string;
  roles: string[];
}

interface UsersServiceStub {
  getUser(
    request: { id: string },
    metadata?: unknown,
    options?: { deadline: Date },
  ): Observable<UserView>;
}

/** orders' client of users.v1.UsersService, with a deadline on every call. */
@Injectable()
export class UsersGrpcClient implements OnModuleInit {
  private stub!: UsersServiceStub;

  constructor(
    @Inject(USERS_GRPC_CLIENT) private readonly client: ClientGrpc,
    @Inject(ORDERS_CONFIG) private readonly config: OrdersConfig,
  ) {}

  onModuleInit(): void {
    this.stub = this.client.getService<UsersServiceStub>('UsersService');
  }

  /**
   * The user, or null when users answers NOT_FOUND. Users unreachable or slower than
   * USERS_GRPC_DEADLINE_MS: a 503 ApiError. With `token` (a token exchanged for a customer)
   * the call carries it and users applies that customer's rights; without, orders' own
   * client-credentials token (the interceptor adds it).
   */
  async getUser(id: string, options: { token?: string } = {}): Promise<UserView | null> {
    const deadline = new Date(Date.now() + this.config.USERS_GRPC_DEADLINE_MS);
    const metadata = new Metadata();
    if (options.token) metadata.set('authorization', `Bearer ${options.token}`);
    try {
      return await firstValueFrom(this.stub.getUser({ id }, metadata, { deadline }));
    } catch (error) {
      const code = (error as { code?: number }).code;
      if (code === GRPC_STATUS.NOT_FOUND) return null;
      if (code === GRPC_STATUS.UNAUTHENTICATED || code === GRPC_STATUS.PERMISSION_DENIED) {
        throw new ApiError(403, 'users refused the call', { code: 'UPSTREAM_REFUSED' });
      }
      throw new ApiError(503, 'users service unavailable', { cause: error });
    }
  }
}
