import { serviceDataSourceOptions } from '@app/platform';
import { Identity } from '../identities/identity.entity';
import { Initial1764057600000 } from './migrations/1764057600000-initial';
import { TokensClientsKeys1764144000000 } from './migrations/1764144000000-tokens-clients-keys';

/** Entities and migrations of the auth database, listed explicitly (no globs: they break in dist/). */
export const AUTH_ENTITIES = [Identity];
export const AUTH_MIGRATIONS = [Initial1764057600000, TokensClientsKeys1764144000000];

export function authDataSourceOptions(url: string) {
  return { url, entities: AUTH_ENTITIES, migrations: AUTH_MIGRATIONS, applicationName: 'auth' };
}

export function authDataSource(url: string) {
  return serviceDataSourceOptions(authDataSourceOptions(url));
}
