import { Body, Controller, Header, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { AccessTokenClaims } from '@app/security';
import { CurrentPrincipal } from '../access/principal.decorator';
import { TotpConfirmDto } from './dto/totp-confirm.dto';
import { TotpEnrolmentService } from './totp-enrolment.service';

@ApiTags('auth')
@ApiBearerAuth()
@Controller('auth/mfa/totp')
export class MfaHttpController {
  constructor(private readonly enrolment: TotpEnrolmentService) {}

  /** The secret is shown once; it is stored encrypted and is active only after /confirm. */
  @Post('setup')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  setup(@CurrentPrincipal() principal: AccessTokenClaims) {
    return this.enrolment.setup(principal.sub);
  }

  @Post('confirm')
  @HttpCode(204)
  @Header('Cache-Control', 'no-store')
  confirm(@CurrentPrincipal() principal: AccessTokenClaims, @Body() body: TotpConfirmDto) {
    return this.enrolment.confirm(principal.sub, body.code);
  }
}
