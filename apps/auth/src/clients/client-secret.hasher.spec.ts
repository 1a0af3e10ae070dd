import { randomBytes } from 'node:crypto';
import { KeyEncryption } from '../keys/key-encryption';
import { ClientSecretHasher } from './client-secret.hasher';

const previous = randomBytes(32);
const current = randomBytes(32);
const before = new ClientSecretHasher(new KeyEncryption(previous));
const rotating = new ClientSecretHasher(new KeyEncryption(current, previous));
const secret = before.generate();

it('matches a hash made under the current key', () => {
  expect(rotating.check(secret, rotating.hash(secret))).toBe('match');
});

it('asks for a re-hash when the hash was made under the previous key', () => {
  expect(rotating.check(secret, before.hash(secret))).toBe('rehash');
});

it('refuses a wrong secret under either key, and an unknown client', () => {
  const other = before.generate();
  expect(rotating.check(other, before.hash(secret))).toBe('mismatch');
  expect(rotating.check(other, rotating.hash(secret))).toBe('mismatch');
  expect(rotating.check(secret, null)).toBe('mismatch');
  expect(rotating.check(secret, Buffer.alloc(5))).toBe('mismatch');
});

it('without a previous key, an old hash no longer matches', () => {
  const after = new ClientSecretHasher(new KeyEncryption(current));
  expect(after.check(secret, before.hash(secret))).toBe('mismatch');
});
