import { subject } from '@casl/ability';
import type { UserProfile } from './user-profile.entity';

/**
 * A profile as a CASL `User` subject with only its public fields: policies and
 * pickPermittedFields work on this, and internal columns (identityVersion) never reach a caller.
 */
export function profileSubject(profile: UserProfile | null) {
  if (!profile) return null;
  return subject('User', {
    id: profile.id,
    email: profile.email,
    displayName: profile.displayName,
    locale: profile.locale,
    region: profile.region,
    roles: profile.roles,
    disabled: profile.disabled,
    createdAt: profile.createdAt,
    updatedAt: profile.updatedAt,
  });
}
