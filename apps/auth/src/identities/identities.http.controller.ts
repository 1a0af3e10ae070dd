import { assertAllowed, clientNetwork, Public, RateLimiter } from '@app/platform';
import { Body, Controller, Header, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { ApiCreatedResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { LIMIT_RULES, type LimitRules } from '../rate-limit/limit-rules';
import { RegisterDto } from './dto/register.dto';
import { IdentitiesService } from './identities.service';

@ApiTags('auth')
@Controller('auth')
export class IdentitiesHttpController {
  constructor(
    private readonly identities: IdentitiesService,
    private readonly limiter: RateLimiter,
    @Inject(LIMIT_RULES) private readonly rules: LimitRules,
  ) {}

  @Public()
  @Post('register')
  @HttpCode(201)
  @Header('Cache-Control', 'no-store')
  @ApiCreatedResponse({ description: '{id, email}' })
  async register(@Body() body: RegisterDto, @Req() request: FastifyRequest) {
    assertAllowed(await this.limiter.consume(clientNetwork(request.ip), this.rules.registerIp));
    return this.identities.register(body);
  }
}
