import 'reflect-metadata';
import { migrateAndExit } from '@app/platform';
import { usersDataSource } from './database/users-data-source';

const url = process.env.DATABASE_URL;
if (!url) {
  process.stderr.write('DATABASE_URL: is required (postgres://user:password@host:port/users)\n');
  process.exit(1);
}
void migrateAndExit('users', usersDataSource(url));
