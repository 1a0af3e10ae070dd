import { IsArray, IsEmail, IsIn, IsString, IsUUID, Length } from 'class-validator';

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
}
