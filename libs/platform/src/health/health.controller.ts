import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { ApiError } from '../errors/api-error';
import { Public } from '../http/public.decorator';
import { ReadinessService } from './readiness.service';

@ApiExcludeController()
@Public()
@Controller('health')
export class HealthController {
  constructor(private readonly readiness: ReadinessService) {}

  /** The process is alive; says nothing about its dependencies (a restart would not help them). */
  @Get('live')
  @Header('Cache-Control', 'no-store')
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  @Header('Cache-Control', 'no-store')
  async ready() {
    const { ready, checks } = await this.readiness.evaluate();
    if (!ready) {
      const down = Object.entries(checks)
        .filter(([, state]) => state !== 'up')
        .map(([name, state]) => `${name} ${state}`);
      throw new ApiError(503, `not ready: ${down.join(', ')}`);
    }
    return { status: 'ok', checks };
  }
}
