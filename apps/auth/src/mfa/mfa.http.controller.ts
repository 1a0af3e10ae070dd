import { Body, Controller, Header, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { RequireRecentAuth, type AccessTokenClaims } from '@app/security';
import { CurrentPrincipal } from '../access/principal.decorator';
import { TotpConfirmDto } from './dto/totp-confirm.dto';
import { TotpEnrolmentService } from './totp-enrolment.service';

/**
 * Enrolling a second factor decides who can log in from then on, so a bare access token is not
 * enough: the user must have logged in (password, or password + TOTP) within 5 minutes (RFC 9470
 * step-up). A token keeps the `auth_time` of its login through every refresh, so an access token
 * or refresh cookie stolen more than 5 minutes after its login cannot enrol the thief's secret,
 * while a user who has just logged in has time to scan the QR code and type a code. A stale token gets 401
 * `insufficient_user_authentication` with `max_age=300`; logging in again keeps a pending secret.
 */
const ENROLMENT_MAX_AUTH_AGE_SECONDS = 300;

@ApiTags('auth')
@ApiBearerAuth()
@Controller('auth/mfa/totp')
export class MfaHttpController {
  constructor(private readonly enrolment: TotpEnrolmentService) {}

  /** The secret is shown once; it is stored encrypted and is active only after /confirm. */
  @Post('setup')
  @RequireRecentAuth(ENROLMENT_MAX_AUTH_AGE_SECONDS)
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  setup(@CurrentPrincipal() principal: AccessTokenClaims) {
    return this.enrolment.setup(principal.sub);
  }

  /**
   * Activates the secret and answers the user's ten recovery codes, shown this once: each logs
   * in once in place of a TOTP code. 409 if a secret is already active: a confirmation never
   * replaces one.
   */
  @Post('confirm')
  @RequireRecentAuth(ENROLMENT_MAX_AUTH_AGE_SECONDS)
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  confirm(@CurrentPrincipal() principal: AccessTokenClaims, @Body() body: TotpConfirmDto) {
    return this.enrolment.confirm(principal.sub, body.code);
  }

  /** A new set of recovery codes (the old ones stop working), with the same fresh login. */
  @Post('recovery-codes')
  @RequireRecentAuth(ENROLMENT_MAX_AUTH_AGE_SECONDS)
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  regenerateRecoveryCodes(@CurrentPrincipal() principal: AccessTokenClaims) {
    return this.enrolment.regenerateRecoveryCodes(principal.sub);
  }
}
