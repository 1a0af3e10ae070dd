import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches, MaxLength } from 'class-validator';
import { RECOVERY_CODE_PATTERN } from '../../mfa/recovery-codes';

const ONE_TIME_CODE = new RegExp(`^\\d{6}$|${RECOVERY_CODE_PATTERN.source}`);

export class LoginMfaDto {
  @ApiProperty()
  @IsString()
  @MaxLength(128)
  mfaToken!: string;

  /** The current TOTP code, or one of the recovery codes the enrolment handed out. */
  @ApiProperty({
    example: '123456',
    description: '6 digits, or a recovery code abcd-efgh-ijkl-mnop-qrst-uvwx',
  })
  @IsString()
  @Matches(ONE_TIME_CODE, { message: 'code must be 6 digits or a recovery code' })
  code!: string;
}
