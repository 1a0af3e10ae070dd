import { InboxKeyedBySubject1765152000000, serviceDataSourceOptions } from '@app/platform';
import { UserProfile } from '../users/user-profile.entity';
import { Initial1764057600000 } from './migrations/1764057600000-initial';
import { ProfileListing1764662400000 } from './migrations/1764662400000-profile-listing';

/** Entities and migrations of the users database, listed explicitly (no globs: they break in dist/). */
export const USERS_ENTITIES = [UserProfile];
export const USERS_MIGRATIONS = [
  Initial1764057600000,
  ProfileListing1764662400000,
  InboxKeyedBySubject1765152000000,
];

export function usersDataSourceOptions(url: string) {
  return { url, entities: USERS_ENTITIES, migrations: USERS_MIGRATIONS, applicationName: 'users' };
}

export function usersDataSource(url: string) {
  return serviceDataSourceOptions(usersDataSourceOptions(url));
}
