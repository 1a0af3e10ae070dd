import {
  IsArray,
  IsBoolean,
  IsEmail,
  IsIn,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
} from 'class-validator';

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
  /**
   * auth's version of the identity (increased by every change, in commit order); absent from
   * events published before auth versioned them, which are ordered by broker time instead.
   */
  @IsOptional()
  @Matches(/^[0-9]{1,18}$/)
  version?: string;
}
