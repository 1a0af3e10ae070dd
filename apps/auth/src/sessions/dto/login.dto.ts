import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches, MaxLength } from 'class-validator';
import { NO_CONTROL_CHARACTERS } from '../../common/text';

export class LoginDto {
  /**
   * Not validated as an email: an unknown account must answer like a wrong password. Control
   * characters are refused (400): no account has them, and PostgreSQL refuses a NUL in text.
   */
  @ApiProperty({ example: 'ada@example.com' })
  @IsString()
  @MaxLength(254)
  @Matches(NO_CONTROL_CHARACTERS, { message: 'email must not contain control characters' })
  email!: string;

  @ApiProperty()
  @IsString()
  @MaxLength(1024)
  password!: string;
}
