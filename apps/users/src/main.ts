import 'reflect-metadata';
import { runService } from '@app/platform';
import { usersAppOptions } from './users.app';
import { loadUsersConfig } from './users.config';

void runService(usersAppOptions(loadUsersConfig())).catch((error: Error) => {
  process.stderr.write(`users failed to start: ${error.message}\n`);
  process.exit(1);
});
