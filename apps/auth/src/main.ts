import 'reflect-metadata';
import { runService } from '@app/platform';
import { authAppOptions } from './auth.app';
import { loadAuthConfig } from './auth.config';

void runService(authAppOptions(loadAuthConfig())).catch((error: Error) => {
  process.stderr.write(`auth failed to start: ${error.message}\n`);
  process.exit(1);
});
