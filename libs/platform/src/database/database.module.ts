import { DynamicModule, Injectable, Module, OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ReadinessService } from '../health/readiness.service';
import { serviceDataSourceOptions, type ServiceDataSourceOptions } from './data-source-options';
import {
  MESSAGING_RETENTION,
  RETENTION_RULES,
  RetentionSweeper,
  type RetentionRule,
} from './retention';

@Injectable()
class DatabaseReadiness implements OnModuleInit {
  constructor(
    private readonly dataSource: DataSource,
    private readonly readiness: ReadinessService,
  ) {}

  onModuleInit(): void {
    this.readiness.register('database', async () => {
      await this.dataSource.query('SELECT 1');
    });
  }
}

/**
 * The service's own PostgreSQL database through TypeORM, checked by /health/ready. Expired rows
 * of the messaging tables, and of the tables named in `retention`, are deleted periodically.
 */
@Module({})
export class DatabaseModule {
  static forRoot(
    options: ServiceDataSourceOptions,
    { retention = [] }: { retention?: readonly RetentionRule[] } = {},
  ): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRoot({
          ...serviceDataSourceOptions(options),
          // Wait for a database that is still starting instead of crashing the service.
          retryAttempts: 30,
          retryDelay: 1000,
        }),
      ],
      providers: [
        DatabaseReadiness,
        { provide: RETENTION_RULES, useValue: [...MESSAGING_RETENTION, ...retention] },
        RetentionSweeper,
      ],
      exports: [RetentionSweeper],
    };
  }
}
