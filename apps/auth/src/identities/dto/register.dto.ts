import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsOptional, IsString, Length, Matches, MaxLength } from 'class-validator';
import { NO_CONTROL_CHARACTERS } from '../../common/text';

export class RegisterDto {
  /** IsEmail refuses control characters too (a NUL would reach PostgreSQL otherwise). */
  @ApiProperty({ example: 'ada@example.com' })
  @IsEmail()
  @MaxLength(254)
  email!: string;

  /** 12..128 characters, never truncated (NIST SP 800-63B §5.1.1.2); checked by PasswordPolicy. */
  @ApiProperty({ minLength: 12, maxLength: 128 })
  @IsString()
  @MaxLength(1024)
  password!: string;

  @ApiProperty({ example: 'Ada' })
  @IsString()
  @Length(1, 100)
  @Matches(NO_CONTROL_CHARACTERS, { message: 'displayName must not contain control characters' })
  displayName!: string;

  @ApiPropertyOptional({ example: 'eu' })
  @IsOptional()
  @IsString()
  @MaxLength(32)
  region?: string;
}
