import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsOptional, IsString, Length, MaxLength } from 'class-validator';

export class RegisterDto {
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
  displayName!: string;

  @ApiPropertyOptional({ example: 'eu' })
  @IsOptional()
  @IsString()
  @MaxLength(32)
  region?: string;
}
