import { ApiError } from '@app/platform';
import { CheckPolicies, type AppAbility } from '@app/security';
import { subject } from '@casl/ability';
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

  // A user the caller may not read is NOT_FOUND, like one that does not exist.
  @CheckPolicies((ability: AppAbility, user: object) => ability.can('read', user))
  @GrpcMethod('UsersService', 'GetUser')
  async getUser(request: GetUserRequest) {
    const profile = await this.users.findById(request.id);
    if (!profile) throw new ApiError(404, 'user not found');
    return subject('User', {
      id: profile.id,
      email: profile.email,
      displayName: profile.displayName,
      locale: profile.locale,
      region: profile.region,
      roles: profile.roles,
    });
  }
}
