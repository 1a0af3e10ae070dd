import type { DataSourceOptions, MixedList } from 'typeorm';
import { DeadLetter } from './dead-letter.entity';
import { InboxMessage } from './inbox-message.entity';
import { OutboxMessage } from './outbox-message.entity';

/** Entities every service's database has (messaging tables). */
export const MESSAGING_ENTITIES = [OutboxMessage, InboxMessage, DeadLetter];

export interface ServiceDataSourceOptions {
  url: string;
  entities: MixedList<string | (new () => unknown)>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: Function[];
  applicationName: string;
}

/** One shape for the runtime connection and the migration runner: migrations, never synchronize. */
export function serviceDataSourceOptions(options: ServiceDataSourceOptions): DataSourceOptions {
  const entities = Array.isArray(options.entities)
    ? options.entities
    : Object.values(options.entities);
  return {
    type: 'postgres',
    url: options.url,
    entities: [...MESSAGING_ENTITIES, ...entities],
    migrations: options.migrations,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    applicationName: options.applicationName,
    extra: {
      max: 10,
      connectionTimeoutMillis: 3000,
      // A query that runs away must not hold a connection forever.
      statement_timeout: 15_000,
    },
  };
}
