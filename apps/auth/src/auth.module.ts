import { DatabaseModule, MessagingModule, PlatformModule } from '@app/platform';
import { DynamicModule, Module } from '@nestjs/common';
import { AUTH_CONFIG, type AuthConfig } from './auth.config';
import { authDataSourceOptions } from './database/auth-data-source';
import { IdentitiesHttpController } from './identities/identities.http.controller';
import { IdentitiesService } from './identities/identities.service';

@Module({})
export class AuthModule {
  static forRoot(config: AuthConfig): DynamicModule {
    return {
      module: AuthModule,
      imports: [
        PlatformModule.forRoot({ serviceName: 'auth', logLevel: config.LOG_LEVEL }),
        DatabaseModule.forRoot(authDataSourceOptions(config.DATABASE_URL)),
        MessagingModule.forRoot({
          serviceName: 'auth',
          url: config.NATS_URL,
          user: config.NATS_USER,
          password: config.NATS_PASSWORD,
          ownStreams: ['AUTH'],
          consumers: [],
        }),
      ],
      controllers: [IdentitiesHttpController],
      providers: [{ provide: AUTH_CONFIG, useValue: config }, IdentitiesService],
    };
  }
}
