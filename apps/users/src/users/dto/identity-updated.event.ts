import { IsArray, IsBoolean, IsEmail, IsIn, IsString, IsUUID, Length } from 'class-validator';

/**
 * Payload of `auth.identity.updated` (apps/auth IdentitiesService.update): the identity's
 * current email, roles, region and disabled flag. Unknown fields make the message invalid.
 */
export class IdentityUpdatedEvent {
  @IsUUID()
  id!: string;

  @IsEmail()
  email!: string;

  @IsArray()
  @IsIn(['customer', 'support', 'admin'], { each: true })
  roles!: string[];

  @IsString()
  @Length(1, 32)
  region!: string;

  @IsBoolean()
  disabled!: boolean;
}
