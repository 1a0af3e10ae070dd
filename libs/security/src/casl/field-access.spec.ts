import { createMongoAbility, subject, type RawRuleOf } from '@casl/ability';
import { SecurityError } from '../security.error';
import { assertWritableFields, permittedFields, pickPermittedFields } from './field-access';
import type { AppAbility } from './policy';

const ability = (rules: RawRuleOf<AppAbility>[]) => createMongoAbility(rules) as AppAbility;
const user = () =>
  subject('User', {
    id: 'u1',
    name: 'Ada',
    region: 'eu',
    secretKey: 'k',
    profile: { ssn: '123', city: 'Paris' },
    meta: { a: 1 },
  });

const refusedWrite = (run: () => void) => {
  try {
    run();
    return 'accepted';
  } catch (error) {
    return error instanceof SecurityError ? error.code : error;
  }
};

describe('field access', () => {
  it('shows and writes only the fields a rule lists', () => {
    const caller = ability([
      { action: ['read', 'update'], subject: 'User', fields: ['id', 'name'] },
    ]);
    expect(pickPermittedFields(caller, user())).toEqual({ id: 'u1', name: 'Ada' });
    expect(refusedWrite(() => assertWritableFields(caller, 'update', user(), { name: 'B' }))).toBe(
      'accepted',
    );
    expect(
      refusedWrite(() => assertWritableFields(caller, 'update', user(), { region: 'us' })),
    ).toBe('FIELD_NOT_PERMITTED');
  });

  it('honours a cannot rule given as a pattern (secret*)', () => {
    const caller = ability([
      { action: ['read', 'update'], subject: 'User' },
      { action: ['read', 'update'], subject: 'User', fields: ['secret*'], inverted: true },
    ]);
    expect(pickPermittedFields(caller, user())).not.toHaveProperty('secretKey');
    expect(
      refusedWrite(() => assertWritableFields(caller, 'update', user(), { secretKey: 'x' })),
    ).toBe('FIELD_NOT_PERMITTED');
  });

  it.each([['profile.ssn'], ['*.ssn'], ['profile.**']])(
    'refuses a whole field when a cannot rule names a part of it (%s)',
    (pattern) => {
      const caller = ability([
        { action: ['read', 'update'], subject: 'User' },
        { action: ['read', 'update'], subject: 'User', fields: [pattern], inverted: true },
      ]);
      const shown = pickPermittedFields(caller, user());
      expect(shown).not.toHaveProperty('profile');
      expect(shown).toMatchObject({ id: 'u1', name: 'Ada', secretKey: 'k' });
      expect(
        refusedWrite(() =>
          assertWritableFields(caller, 'update', user(), { profile: { ssn: '999' } }),
        ),
      ).toBe('FIELD_NOT_PERMITTED');
    },
  );

  it('leaves the fields a cannot rule about parts does not name', () => {
    const caller = ability([
      { action: ['read', 'update'], subject: 'User' },
      { action: ['read', 'update'], subject: 'User', fields: ['profile.ssn'], inverted: true },
    ]);
    expect(pickPermittedFields(caller, user())).toHaveProperty('meta', { a: 1 });
    expect(
      refusedWrite(() => assertWritableFields(caller, 'update', user(), { meta: { b: 2 } })),
    ).toBe('accepted');
  });

  it('refuses a whole field when only some of its parts are allowed', () => {
    const caller = ability([{ action: 'update', subject: 'User', fields: ['profile.city'] }]);
    expect(
      refusedWrite(() => assertWritableFields(caller, 'update', user(), { profile: { ssn: '9' } })),
    ).toBe('FIELD_NOT_PERMITTED');
  });

  it('applies a cannot rule only to the objects its conditions match', () => {
    const caller = ability([
      { action: 'read', subject: 'User' },
      {
        action: 'read',
        subject: 'User',
        fields: ['profile.ssn'],
        inverted: true,
        conditions: { region: 'us' },
      },
    ]);
    expect(permittedFields(caller, 'read', user())).toContain('profile');
    expect(permittedFields(caller, 'read', { ...user(), region: 'us' })).not.toContain('profile');
  });
});
