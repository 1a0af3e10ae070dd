import { DynamicModule, Global, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { AllExceptionsFilter } from './errors/all-exceptions.filter';
import { HealthController } from './health/health.controller';
import { ReadinessService } from './health/readiness.service';
import { WellFormedJsonBodies } from './http/well-formed-json';
import { loggingOptions } from './logging/logging.options';
import { MetricsAccess } from './metrics/metrics-access';
import { MetricsController } from './metrics/metrics.controller';
import { MetricsService } from './metrics/metrics.service';

export interface PlatformOptions {
  serviceName: string;
  logLevel: string;
  /** METRICS_TOKEN: the bearer token `GET /metrics` asks for; unset, /metrics is open. */
  metricsToken?: string;
  /** METRICS_TOKEN_PREVIOUS: also accepted, during a rotation. */
  metricsTokenPrevious?: string;
}

export const PLATFORM_OPTIONS = Symbol('PLATFORM_OPTIONS');

/**
 * What every service has: JSON logs with redaction and request ids, /health/live,
 * /health/ready, /metrics, one error shape at every transport edge, and JSON bodies refused
 * (400) when their text is not well-formed Unicode.
 */
@Global()
@Module({})
export class PlatformModule {
  static forRoot(options: PlatformOptions): DynamicModule {
    const metrics = new MetricsService();
    metrics.setServiceName(options.serviceName);
    return {
      module: PlatformModule,
      imports: [LoggerModule.forRoot(loggingOptions(options.serviceName, options.logLevel))],
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: PLATFORM_OPTIONS, useValue: options },
        { provide: MetricsService, useValue: metrics },
        {
          provide: MetricsAccess,
          useValue: new MetricsAccess(options.metricsToken, options.metricsTokenPrevious),
        },
        ReadinessService,
        WellFormedJsonBodies,
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
      ],
      exports: [PLATFORM_OPTIONS, MetricsService, ReadinessService],
    };
  }
}
