import { definePolicy } from '@app/security';
import { OPEN_STATUSES } from './order-status';

/**
 * SPEC §5: who may do what to an Order. State conditions live here too, so "may cancel"
 * and "may cancel in this state" are one rule: a caller with a rule for the action in some
 * other state gets 409 (wrong state), a caller with none gets 403 (see OrdersService).
 *
 * | who              | action  | when                                   |
 * |------------------|---------|----------------------------------------|
 * | customer         | create  | always (for themselves)                |
 * | customer         | read    | own orders                             |
 * | customer         | cancel  | own orders, while pending              |
 * | support          | read    | orders of their region                 |
 * | admin            | read    | every order                            |
 * | admin            | cancel  | while pending or confirmed (not shipped) |
 * | admin            | confirm | while pending          (extension)     |
 * | admin            | ship    | while confirmed        (extension)     |
 * | scope orders:read| count   | always (services: CountOpenOrders)     |
 *
 * Nobody else may do anything; `manage` is never granted, so an admin cannot, say, cancel a
 * shipped order by a wildcard. Scope rules apply to service (client-credentials) tokens only:
 * a user's token carrying `orders:read` gets its role's rules, never `count`. A service acting
 * for a user (RFC 8693, `kind: 'delegated'`) gets the user's `read` rules only: creating,
 * cancelling, confirming and shipping need the user's own token, as in users.
 */
export const OrdersPolicy = definePolicy({
  name: 'orders',
  roles: {
    customer: ({ can }, me) => {
      can('read', 'Order', { userId: me.id });
      if (me.kind !== 'user') return;
      can('create', 'Order');
      can('cancel', 'Order', { userId: me.id, status: 'pending' });
    },
    support: ({ can }, me) => {
      can('read', 'Order', { region: me.region });
    },
    admin: ({ can }, me) => {
      can('read', 'Order');
      if (me.kind !== 'user') return;
      can('cancel', 'Order', { status: { $in: [...OPEN_STATUSES] } });
      can('confirm', 'Order', { status: 'pending' });
      can('ship', 'Order', { status: 'confirmed' });
    },
  },
  scopes: {
    'orders:read': ({ can }) => can('count', 'Order'),
  },
});
