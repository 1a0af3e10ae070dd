import { buildAbility, type Principal, type UserLikePrincipal } from '@app/security';
import { servicePrincipal, userPrincipal } from '../../../../test/support/principals';
import { OrdersPolicy } from './orders.policy';
import { asOrderSubject } from './orders.service';

const user = (id: string, roles: ('customer' | 'support' | 'admin')[], region = 'eu') =>
  userPrincipal({ id, roles, region, scopes: ['orders:read', 'orders:write'] });
const service = (scopes: string[]) => servicePrincipal('users', scopes);
const order = (userId: string | null, region: string, status: string) =>
  asOrderSubject({ userId, region, status });
const can = (principal: Principal, action: string, subject: object | string) =>
  buildAbility([OrdersPolicy], principal).can(action, subject as never);

describe('OrdersPolicy', () => {
  it('lets a customer read and cancel only their own orders, and cancel only while pending', () => {
    const me = user('me', ['customer']);
    expect(can(me, 'read', order('me', 'us', 'shipped'))).toBe(true);
    expect(can(me, 'read', order('other', 'eu', 'pending'))).toBe(false);
    expect(can(me, 'read', order(null, 'eu', 'pending'))).toBe(false);
    expect(can(me, 'cancel', order('me', 'eu', 'pending'))).toBe(true);
    for (const status of ['confirmed', 'shipped', 'cancelled']) {
      expect(can(me, 'cancel', order('me', 'eu', status))).toBe(false);
    }
    expect(can(me, 'cancel', order('other', 'eu', 'pending'))).toBe(false);
    expect(can(me, 'create', 'Order')).toBe(true);
  });

  it('lets support read the orders of their region only, and change none', () => {
    const agent = user('agent', ['support'], 'eu');
    expect(can(agent, 'read', order('x', 'eu', 'pending'))).toBe(true);
    expect(can(agent, 'read', order('x', 'us', 'pending'))).toBe(false);
    for (const action of ['cancel', 'confirm', 'ship', 'create', 'count']) {
      expect(can(agent, action, order('x', 'eu', 'pending'))).toBe(false);
    }
  });

  it('lets an admin read everything and cancel only before shipping', () => {
    const admin = user('admin', ['admin']);
    expect(can(admin, 'read', order('x', 'apac', 'shipped'))).toBe(true);
    expect(can(admin, 'cancel', order('x', 'us', 'confirmed'))).toBe(true);
    expect(can(admin, 'cancel', order('x', 'us', 'shipped'))).toBe(false);
    expect(can(admin, 'confirm', order('x', 'us', 'pending'))).toBe(true);
    expect(can(admin, 'ship', order('x', 'us', 'pending'))).toBe(false);
    expect(can(admin, 'ship', order('x', 'us', 'confirmed'))).toBe(true);
    expect(can(admin, 'create', 'Order')).toBe(false);
  });

  it('lets a service acting for a user (token exchange) read what the user reads, and change nothing', () => {
    for (const role of ['customer', 'admin'] as const) {
      const actingFor: Principal = {
        ...(user('me', [role]) as UserLikePrincipal),
        kind: 'delegated',
        actor: { clientId: 'users' },
      };
      expect(can(actingFor, 'read', order('me', 'eu', 'pending'))).toBe(true);
      for (const action of ['cancel', 'confirm', 'ship']) {
        for (const status of ['pending', 'confirmed']) {
          expect(can(actingFor, action, order('me', 'eu', status))).toBe(false);
        }
      }
      expect(can(actingFor, 'create', 'Order')).toBe(false);
    }
  });

  it('grants count to services with orders:read and never to users, whatever their token scope says', () => {
    expect(can(service(['orders:read']), 'count', 'Order')).toBe(true);
    expect(can(service(['orders:write']), 'count', 'Order')).toBe(false);
    expect(can(service(['orders:read']), 'read', order('x', 'eu', 'pending'))).toBe(false);
    for (const role of ['customer', 'support', 'admin'] as const) {
      expect(can(user('u', [role]), 'count', 'Order')).toBe(false);
    }
  });
});
