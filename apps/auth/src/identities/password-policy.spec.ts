import { PasswordPolicy } from './password-policy';
import { PASSWORD_HASH_OPTIONS, PasswordHasher } from './password-hasher';

const policy = PasswordPolicy.load();

it('ships at least 10,000 common passwords', () => {
  expect(policy.size).toBeGreaterThanOrEqual(10_000);
});

it('refuses a listed password whatever its case', () => {
  expect(policy.problem('1QAZ2WSX3EDC')).toMatch(/common/);
});

it('counts code points: 12 emoji are 12 characters', () => {
  expect(policy.problem('🔑'.repeat(12))).toBeNull();
  expect(policy.problem('🔑'.repeat(129))).toMatch(/at most 128/);
});

it('hashes with argon2id m=19456 t=2 p=1', async () => {
  const hash = await new PasswordHasher().hash('a long enough passphrase');
  expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
  expect(PASSWORD_HASH_OPTIONS.memoryCost).toBeGreaterThanOrEqual(19_456);
});
