import {
  authorize,
  CheckPolicies,
  CurrentAbility,
  pickPermittedFields,
  Scopes,
  type AppAbility,
} from '@app/security';
import { Controller } from '@nestjs/common';
import { GrpcMethod, Payload } from '@nestjs/microservices';
import { GetUserRequest } from './dto/get-user.request';
import { profileSubject } from './profile-subject';
import { UsersService } from './users.service';

/**
 * users.v1.UsersService (proto/users/v1/users.proto). The caller's own rights apply, and the
 * scope HTTP's GET /users/:id asks for (users:read) is asked for here too: a service token needs
 * it; a token orders exchanged for a customer (RFC 8693, which grants it) reads only that
 * customer; a user token narrowed to other scopes reads nothing. Missing or bad token:
 * UNAUTHENTICATED (guard); no right to read users at all: PERMISSION_DENIED; a user the caller
 * may not see: NOT_FOUND, like one that does not exist.
 */
@Controller()
export class UsersGrpcController {
  constructor(private readonly users: UsersService) {}

  @Scopes('users:read')
  @CheckPolicies((ability: AppAbility) => ability.can('read', 'User'))
  @GrpcMethod('UsersService', 'GetUser')
  async getUser(@Payload() request: GetUserRequest, @CurrentAbility() ability: AppAbility) {
    const profile = profileSubject(await this.users.findById(request.id));
    authorize(ability, 'read', profile);
    const visible = pickPermittedFields(ability, profile!);
    // Only the proto's fields; one the caller may not read goes out as its proto default.
    return {
      id: visible.id,
      email: visible.email,
      displayName: visible.displayName,
      locale: visible.locale,
      region: visible.region,
      roles: visible.roles,
    };
  }
}
