// A service with nothing of its own, built by createServiceApp as users and orders are: for
// tests of what the service pipeline itself does (health, CORS, ...).
import {
  createServiceApp,
  DatabaseModule,
  MessagingModule,
  PlatformModule,
  Public,
  type BaseConfig,
} from '@app/platform';
import { Controller, Get, Module, type Type } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/** A public `GET /probe` answering `{ ok: true }`. */
@Controller()
export class PublicProbeController {
  @Public()
  @Get('probe')
  probe() {
    return { ok: true };
  }
}

export function createProbeServiceApp(
  config: BaseConfig,
  controllers: Type<unknown>[] = [],
): Promise<NestFastifyApplication> {
  @Module({
    imports: [
      PlatformModule.forRoot({ serviceName: 'probe', logLevel: 'silent' }),
      DatabaseModule.forRoot({
        url: config.DATABASE_URL,
        entities: [],
        migrations: [],
        applicationName: 'probe',
      }),
      MessagingModule.forRoot({
        serviceName: 'probe',
        url: config.NATS_URL,
        ownStreams: [],
        consumers: [],
      }),
    ],
    controllers,
  })
  class ProbeModule {}

  return createServiceApp({
    serviceName: 'probe',
    module: ProbeModule,
    config,
    openApi: { title: 'probe', description: 'probe' },
    quiet: true,
  });
}
