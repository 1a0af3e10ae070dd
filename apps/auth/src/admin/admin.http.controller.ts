import { ApiError } from '@app/platform';
import { RequireRecentAuth, type AccessTokenClaims } from '@app/security';
import {
  Body,
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal } from '../access/principal.decorator';
import { RequireRole } from '../access/require-role.decorator';
import { RoleGuard } from '../access/role.guard';
import { AuditService } from '../audit/audit.service';
import { ClientsService } from '../clients/clients.service';
import { CreateClientDto } from '../clients/dto/create-client.dto';
import { clientMetadata, isClientId } from '../clients/oauth-client';
import { IdentitiesService } from '../identities/identities.service';
import { KeyRotationRefused, SigningKeyStore } from '../keys/signing-key.store';
import { TotpEnrolmentService } from '../mfa/totp-enrolment.service';
import { UpdateUserDto } from './dto/update-user.dto';

/**
 * Admin routes that grant privileges, remove a factor, delete a client or rotate the signing
 * keys need a login at most this old (RFC 9470 step-up): a stolen admin token alone could
 * otherwise make its holder's own account an admin, log in afresh, and from there do anything,
 * or cut a service off (its client deleted) or force key rotations.
 */
const PRIVILEGED_MAX_AUTH_AGE_SECONDS = 300;

@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin')
@UseGuards(RoleGuard)
@RequireRole('admin')
export class AdminHttpController {
  constructor(
    private readonly clients: ClientsService,
    private readonly identities: IdentitiesService,
    private readonly keys: SigningKeyStore,
    private readonly audit: AuditService,
    private readonly totp: TotpEnrolmentService,
  ) {}

  /** RFC 7591 registration: the secret is in this response only. */
  @Post('clients')
  @RequireRecentAuth(PRIVILEGED_MAX_AUTH_AGE_SECONDS)
  @HttpCode(201)
  @Header('Cache-Control', 'no-store')
  async createClient(@Body() body: CreateClientDto, @CurrentPrincipal() admin: AccessTokenClaims) {
    const { client, secret } = await this.clients.create(body);
    this.audit.record('admin_change', 'success', {
      userId: admin.sub,
      clientId: client.clientId,
      reason: 'client_created',
    });
    return {
      ...clientMetadata(client),
      ...(secret ? { client_secret: secret, client_secret_expires_at: 0 } : {}),
    };
  }

  @Get('clients')
  @Header('Cache-Control', 'no-store')
  async listClients() {
    return (await this.clients.list()).map(clientMetadata);
  }

  @Delete('clients/:id')
  @RequireRecentAuth(PRIVILEGED_MAX_AUTH_AGE_SECONDS)
  @HttpCode(204)
  async deleteClient(@Param('id') id: string, @CurrentPrincipal() admin: AccessTokenClaims) {
    if (!isClientId(id)) throw new ApiError(400, 'client id must be a lower-case service name');
    await this.clients.delete(id);
    this.audit.record('admin_change', 'success', {
      userId: admin.sub,
      clientId: id,
      reason: 'client_deleted',
    });
  }

  @Patch('users/:id')
  @RequireRecentAuth(PRIVILEGED_MAX_AUTH_AGE_SECONDS)
  @Header('Cache-Control', 'no-store')
  async updateUser(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() body: UpdateUserDto,
    @CurrentPrincipal() admin: AccessTokenClaims,
  ) {
    if (body.roles === undefined && body.region === undefined && body.disabled === undefined) {
      throw new ApiError(400, 'nothing to change: give roles, region or disabled');
    }
    // An admin never locks themself out (nor the suite out of its last admin by a slip):
    // another admin disables or demotes them.
    if (
      id === admin.sub &&
      (body.disabled === true || (body.roles && !body.roles.includes('admin')))
    ) {
      throw new ApiError(409, 'an admin cannot disable or demote themself');
    }
    const updated = await this.identities.update(id, body);
    this.audit.record('admin_change', 'success', {
      userId: admin.sub,
      target: id,
      reason: 'identity_updated',
    });
    return {
      id: updated.id,
      email: updated.email,
      roles: updated.roles,
      region: updated.region,
      disabled: updated.disabled,
    };
  }

  /** Removes a user's TOTP (a lost authenticator) and ends all their sessions. */
  @Delete('users/:id/totp')
  @RequireRecentAuth(PRIVILEGED_MAX_AUTH_AGE_SECONDS)
  @HttpCode(204)
  async resetTotp(
    @Param('id', new ParseUUIDPipe()) id: string,
    @CurrentPrincipal() admin: AccessTokenClaims,
  ) {
    await this.totp.reset(id, admin.sub);
  }

  @Post('keys/rotate')
  @RequireRecentAuth(PRIVILEGED_MAX_AUTH_AGE_SECONDS)
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  async rotateKeys() {
    try {
      await this.keys.rotate('manual');
    } catch (error) {
      if (error instanceof KeyRotationRefused) throw new ApiError(409, error.message);
      throw error;
    }
    return {
      current: this.keys.current().kid,
      keys: this.keys.publishedKeys().keys.map((key) => key.kid),
    };
  }
}
