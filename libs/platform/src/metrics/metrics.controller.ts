import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../errors/api-error';
import { Public } from '../http/public.decorator';
import { MetricsAccess } from './metrics-access';
import { MetricsService } from './metrics.service';

/**
 * Prometheus's scrape endpoint. It is `@Public()` for the access-token guard (a scraper has no
 * access token) and asks instead for the METRICS_TOKEN, when one is configured: route names,
 * error rates and counters such as failed client authentications are not for every caller
 * that can reach the API port.
 */
@ApiExcludeController()
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    @Inject(MetricsAccess) private readonly access: MetricsAccess,
  ) {}

  @Get()
  async scrape(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    if (!this.access.allows(request.headers.authorization)) {
      throw new ApiError(401, 'the metrics token is required', {
        code: 'UNAUTHENTICATED',
        headers: { 'WWW-Authenticate': 'Bearer realm="metrics"' },
      });
    }
    const body = await this.metrics.registry.metrics();
    reply.header('Content-Type', this.metrics.registry.contentType).send(body);
  }
}
