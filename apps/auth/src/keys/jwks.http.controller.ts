import { Public } from '@app/platform';
import { Controller, Get, Header } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { SigningKeyStore } from './signing-key.store';

@ApiTags('oauth')
@Controller('.well-known')
export class JwksHttpController {
  constructor(private readonly keys: SigningKeyStore) {}

  /** Next, current and previous public keys (RFC 7517); verifiers cache it themselves. */
  @Public()
  @Get('jwks.json')
  @Header('Cache-Control', 'no-store')
  @Header('Content-Type', 'application/jwk-set+json')
  jwks() {
    return this.keys.publishedKeys();
  }

  /**
   * Keys that no longer sign, each with its signing period (`iat`, `exp`), kept while a NATS
   * message stored in that period can still be in its stream. Verifiers consult it only for
   * such messages (`@app/security`); it is not a JWKS for live requests.
   */
  @Public()
  @Get('retired-jwks.json')
  @Header('Cache-Control', 'no-store')
  @Header('Content-Type', 'application/jwk-set+json')
  retiredJwks(): string {
    return this.keys.retiredKeysJson();
  }
}
