import {
  IsArray,
  IsEmail,
  IsIn,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
} from 'class-validator';

/** Payload of `auth.identity.registered`. Unknown fields make the message invalid. */
export class IdentityRegisteredEvent {
  @IsUUID()
  id!: string;

  @IsEmail()
  email!: string;

  @IsString()
  @Length(1, 100)
  displayName!: string;

  @IsString()
  @Length(1, 32)
  region!: string;

  @IsArray()
  @IsIn(['customer', 'support', 'admin'], { each: true })
  roles!: string[];
  /**
   * auth's version of the identity (increased by every change, in commit order); absent from
   * events published before auth versioned them, which are ordered by broker time instead.
   */
  @IsOptional()
  @Matches(/^[0-9]{1,18}$/)
  version?: string;
}
