import { DynamicModule, Injectable, Module, OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ReadinessService } from '../health/readiness.service';
import { serviceDataSourceOptions, type ServiceDataSourceOptions } from './data-source-options';

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

/** The service's own PostgreSQL database through TypeORM, checked by /health/ready. */
@Module({})
export class DatabaseModule {
  static forRoot(options: ServiceDataSourceOptions): DynamicModule {
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
      providers: [DatabaseReadiness],
    };
  }
}
