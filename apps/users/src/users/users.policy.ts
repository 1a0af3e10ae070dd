import { definePolicy, type PolicyBuilder, type UserLikePrincipal } from '@app/security';

/** What support may see of a profile in its region: not roles, status or timestamps. */
export const SUPPORT_VISIBLE_FIELDS = ['id', 'email', 'displayName', 'locale', 'region'];
/** What a user may change of their own profile; auth owns email, roles and region. */
export const SELF_WRITABLE_FIELDS = ['displayName', 'locale'];

/**
 * Every user, whatever their role, reads their own profile. Changing or deleting it needs the
 * user's own token: a service acting for them (RFC 8693, `kind: 'delegated'`) only reads.
 */
function ownProfile({ can }: PolicyBuilder, me: UserLikePrincipal): void {
  can('read', 'User', { id: me.id });
  if (me.kind === 'user') {
    can('update', 'User', SELF_WRITABLE_FIELDS, { id: me.id });
    can('delete', 'User', { id: me.id });
  }
}

/**
 * SPEC §5: who may read, list, change and delete a user profile. `list` is the right to call
 * the collection at all (403 otherwise); which rows it returns is `read`, applied in SQL.
 */
export const UsersPolicy = definePolicy({
  name: 'users',
  roles: {
    customer: ownProfile,
    support: (builder, me) => {
      ownProfile(builder, me);
      builder.can('list', 'User');
      // No region in the token: nobody else's profile, rather than everyone's.
      if (me.region) builder.can('read', 'User', SUPPORT_VISIBLE_FIELDS, { region: me.region });
    },
    admin: (builder, me) => {
      ownProfile(builder, me);
      builder.can('list', 'User');
      builder.can('read', 'User');
    },
  },
  scopes: {
    // Services (orders) read profiles over gRPC; they neither list nor change them.
    'users:read': ({ can }) => can('read', 'User'),
  },
});
