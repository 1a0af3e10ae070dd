import 'reflect-metadata';
import { migrateAndExit } from '@app/platform';
import { authDataSource } from './database/auth-data-source';

const url = process.env.DATABASE_URL;
if (!url) {
  process.stderr.write('DATABASE_URL: is required (postgres://user:password@host:port/auth)\n');
  process.exit(1);
}
void migrateAndExit('auth', authDataSource(url));
