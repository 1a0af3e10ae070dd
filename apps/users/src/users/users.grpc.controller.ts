import { ApiError } from '@app/platform';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { IsUUID } from 'class-validator';
import { UsersService } from './users.service';

class GetUserRequest {
  @IsUUID()
  id!: string;
}

/** users.v1.UsersService (proto/users/v1/users.proto). */
@Controller()
export class UsersGrpcController {
  constructor(private readonly users: UsersService) {}

  @GrpcMethod('UsersService', 'GetUser')
  async getUser(request: GetUserRequest) {
    const profile = await this.users.findById(request.id);
    if (!profile) throw new ApiError(404, 'user not found');
    return {
      id: profile.id,
      email: profile.email,
      displayName: profile.displayName,
      locale: profile.locale,
      region: profile.region,
      roles: profile.roles,
    };
  }
}
