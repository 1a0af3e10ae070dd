import {
  InboxKeyedBySubject1765152000000,
  type RetentionRule,
  serviceDataSourceOptions,
} from '@app/platform';
import { Identity } from '../identities/identity.entity';
import { Initial1764057600000 } from './migrations/1764057600000-initial';
import { TokensClientsKeys1764144000000 } from './migrations/1764144000000-tokens-clients-keys';
import { IdentityVersion1764835200000 } from './migrations/1764835200000-identity-version';
import { RetiredSigningKeys1764950400000 } from './migrations/1764950400000-retired-signing-keys';
import { MfaRecoveryCodes1765065600000 } from './migrations/1765065600000-mfa-recovery-codes';

/** Entities and migrations of the auth database, listed explicitly (no globs: they break in dist/). */
export const AUTH_ENTITIES = [Identity];
export const AUTH_MIGRATIONS = [
  Initial1764057600000,
  TokensClientsKeys1764144000000,
  IdentityVersion1764835200000,
  RetiredSigningKeys1764950400000,
  MfaRecoveryCodes1765065600000,
  InboxKeyedBySubject1765152000000,
];

const HOUR = 60 * 60;

/**
 * Rows that can no longer matter (DatabaseModule deletes them): a refresh family a day after its
 * absolute expiry (its tokens go with it: ON DELETE CASCADE); a deny-list entry and an MFA
 * challenge an hour after they expired (an expired token or challenge is refused anyway).
 */
export const AUTH_RETENTION: readonly RetentionRule[] = [
  { table: 'refresh_families', column: 'expires_at', keepSeconds: 24 * HOUR },
  { table: 'revoked_access_tokens', column: 'expires_at', keepSeconds: HOUR },
  { table: 'mfa_challenges', column: 'expires_at', keepSeconds: HOUR },
];

export function authDataSourceOptions(url: string) {
  return { url, entities: AUTH_ENTITIES, migrations: AUTH_MIGRATIONS, applicationName: 'auth' };
}

export function authDataSource(url: string) {
  return serviceDataSourceOptions(authDataSourceOptions(url));
}
