import { ApiError } from '@app/platform';
import {
  assertWritableFields,
  authorize,
  CheckPolicies,
  CurrentAbility,
  CurrentPrincipal,
  isUserLike,
  pickPermittedFields,
  RequireRecentAuth,
  Scopes,
  SecurityError,
  type AppAbility,
  type Principal,
  type UserLikePrincipal,
} from '@app/security';
import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Query,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { OrdersGrpcClient } from '../orders-client/orders.grpc.client';
import { ListUsersQuery } from './dto/list-users.query';
import { UpdateProfileDto } from './dto/update-profile.dto';
import { UserPageView, UserProfileView } from './dto/user-profile.view';
import { profileSubject } from './profile-subject';
import { UsersService } from './users.service';

/** RFC 9470: deleting the account needs a login at most this many seconds old. */
const DELETE_MAX_AUTH_AGE_SECONDS = 300;

/** /users/me is about the caller: a service token has no "me". */
function requireUser(caller: Principal): UserLikePrincipal {
  if (!isUserLike(caller)) throw new SecurityError('FORBIDDEN', 'this endpoint needs a user');
  return caller;
}

/**
 * SPEC §5 users HTTP API. Authorization per users.policy.ts: the guard checks scopes, recent
 * login and the right to list; each handler checks the loaded profile with `authorize` (404
 * if the caller may not read it, 403 if they may read but not act) and shows only the fields
 * the caller may read.
 */
@ApiTags('users')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'no valid access token' })
@Controller('users')
export class UsersHttpController {
  constructor(
    private readonly users: UsersService,
    private readonly orders: OrdersGrpcClient,
  ) {}

  @ApiOperation({ summary: 'The caller’s own profile' })
  @ApiOkResponse({ type: UserProfileView })
  @ApiNotFoundResponse({ description: 'no profile yet (registration still being processed)' })
  @Scopes('users:read')
  @Get('me')
  async getMe(@CurrentPrincipal() caller: Principal, @CurrentAbility() ability: AppAbility) {
    const profile = profileSubject(await this.users.findById(requireUser(caller).id));
    authorize(ability, 'read', profile);
    return pickPermittedFields(ability, profile!);
  }

  @ApiOperation({ summary: 'Change the caller’s displayName and/or locale (nothing else)' })
  @ApiOkResponse({ type: UserProfileView })
  @ApiBadRequestResponse({ description: 'invalid value, or a field that may not be written' })
  @ApiForbiddenResponse({ description: 'a service acting for the user may not change it' })
  @Scopes('users:write')
  @Patch('me')
  async updateMe(
    @Body() changes: UpdateProfileDto,
    @CurrentPrincipal() caller: Principal,
    @CurrentAbility() ability: AppAbility,
  ) {
    const id = requireUser(caller).id;
    const profile = profileSubject(await this.users.findById(id));
    authorize(ability, 'update', profile);
    const requested = Object.fromEntries(
      Object.entries(changes).filter(([, value]) => value !== undefined),
    );
    // The DTO already refuses other fields; the policy is checked too, so neither alone decides.
    assertWritableFields(ability, 'update', profile!, requested);
    // Deleted meanwhile (DELETE /users/me committed after the read above): 404, as before it.
    const updated = profileSubject(await this.users.updateProfile(id, changes));
    authorize(ability, 'read', updated);
    return pickPermittedFields(ability, updated!);
  }

  @ApiOperation({
    summary: 'Delete the caller’s account (needs a login within 5 minutes and no open orders)',
  })
  @ApiNoContentResponse({ description: 'deleted; users.deleted is published' })
  @ApiConflictResponse({ description: 'the user has open orders' })
  @ApiServiceUnavailableResponse({ description: 'orders cannot be asked: nothing was deleted' })
  @Scopes('users:write')
  @RequireRecentAuth(DELETE_MAX_AUTH_AGE_SECONDS)
  @HttpCode(204)
  @Delete('me')
  async deleteMe(
    @CurrentPrincipal() caller: Principal,
    @CurrentAbility() ability: AppAbility,
  ): Promise<void> {
    const id = requireUser(caller).id;
    authorize(ability, 'delete', profileSubject(await this.users.findById(id)));
    const open = await this.orders.countOpenOrders(id);
    if (open > 0) {
      throw new ApiError(409, `the account has ${open} open order(s)`, { code: 'OPEN_ORDERS' });
    }
    // Deleted concurrently by another request: that one published users.deleted.
    if (!(await this.users.deleteProfile(id))) throw new ApiError(404, 'not found');
  }

  @ApiOperation({ summary: 'Profiles the caller may read (admin: all; support: their region)' })
  @ApiOkResponse({ type: UserPageView })
  @ApiForbiddenResponse({ description: 'the caller may not list users (customers, services)' })
  @Scopes('users:read')
  @CheckPolicies((ability: AppAbility) => ability.can('list', 'User'))
  @Get()
  async list(@Query() query: ListUsersQuery, @CurrentAbility() ability: AppAbility) {
    const page = await this.users.list(ability, query.limit, query.cursor);
    return {
      items: page.items.map((profile) => pickPermittedFields(ability, profileSubject(profile)!)),
      nextCursor: page.nextCursor,
    };
  }

  @ApiOperation({ summary: 'A profile: self, admin, or support in the same region' })
  @ApiOkResponse({ type: UserProfileView })
  @ApiBadRequestResponse({ description: 'the id is not a UUID' })
  @ApiNotFoundResponse({ description: 'no such user, or one the caller may not see' })
  @Scopes('users:read')
  @Get(':id')
  async getById(
    @Param('id', new ParseUUIDPipe()) id: string,
    @CurrentAbility() ability: AppAbility,
  ) {
    const profile = profileSubject(await this.users.findById(id));
    // 404, never 403: a caller who may not see a profile cannot learn that it exists.
    authorize(ability, 'read', profile);
    return pickPermittedFields(ability, profile!);
  }
}
