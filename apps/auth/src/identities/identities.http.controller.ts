import { Public } from '@app/platform';
import { Body, Controller, Header, HttpCode, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiTags } from '@nestjs/swagger';
import { RegisterDto } from './dto/register.dto';
import { IdentitiesService } from './identities.service';

@ApiTags('auth')
@Controller('auth')
export class IdentitiesHttpController {
  constructor(private readonly identities: IdentitiesService) {}

  @Public()
  @Post('register')
  @HttpCode(201)
  @Header('Cache-Control', 'no-store')
  @ApiCreatedResponse({ description: '{id, email}' })
  register(@Body() body: RegisterDto) {
    return this.identities.register(body);
  }
}
