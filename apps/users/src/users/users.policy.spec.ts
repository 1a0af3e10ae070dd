import { buildAbility } from '@app/security';
import { subject } from '@casl/ability';
import { userPrincipal } from '../../../../test/support/principals';
import { UsersPolicy } from './users.policy';

const support = (region: string | undefined) =>
  userPrincipal({ id: 'support-1', roles: ['support'], region });
const profile = (region: string | null | undefined) =>
  subject('User', { id: 'someone-else', email: 'x@example.test', region });

it('lets support read the profiles of its own region only', () => {
  const ability = buildAbility([UsersPolicy], support('eu'));
  expect(ability.can('read', profile('eu'))).toBe(true);
  expect(ability.can('read', profile('us'))).toBe(false);
});

it('lets support without a region in its token read nobody else, not the profiles without one', () => {
  const ability = buildAbility([UsersPolicy], support(undefined));
  for (const region of [undefined, null, 'eu']) {
    expect({ region, can: ability.can('read', profile(region)) }).toEqual({ region, can: false });
  }
  expect(ability.can('read', subject('User', { id: 'support-1', region: undefined }))).toBe(true);
});
