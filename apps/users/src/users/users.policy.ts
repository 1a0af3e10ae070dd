import { definePolicy } from '@app/security';

/** SPEC §5: who may read and change a user profile. */
export const UsersPolicy = definePolicy({
  name: 'users',
  roles: {
    customer: ({ can }, me) => {
      can('read', 'User', { id: me.id });
      can('update', 'User', ['displayName', 'locale'], { id: me.id });
    },
    support: ({ can }, me) =>
      can('read', 'User', ['id', 'email', 'displayName', 'locale', 'region', 'roles'], {
        region: me.region,
      }),
    admin: ({ can }) => can('manage', 'User'),
  },
  scopes: {
    'users:read': ({ can }) => can('read', 'User'),
  },
});
