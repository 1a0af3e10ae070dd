import { randomBytes } from 'node:crypto';
import { KeyEncryption } from './key-encryption';

const encryption = new KeyEncryption(randomBytes(32));

it('round-trips and never stores the plaintext', () => {
  const sealed = encryption.encrypt('-----BEGIN PRIVATE KEY-----', 'kid-1');
  expect(sealed).not.toContain('PRIVATE');
  expect(encryption.decrypt(sealed, 'kid-1')).toBe('-----BEGIN PRIVATE KEY-----');
});

it('refuses a ciphertext moved to another key id (bound by AAD)', () => {
  const sealed = encryption.encrypt('secret', 'kid-1');
  expect(() => encryption.decrypt(sealed, 'kid-2')).toThrow();
});

it('refuses a tampered ciphertext', () => {
  const sealed = encryption.encrypt('secret', 'kid-1');
  const raw = Buffer.from(sealed.slice(3), 'base64url');
  raw[raw.length - 1] ^= 1;
  expect(() => encryption.decrypt(`v1.${raw.toString('base64url')}`, 'kid-1')).toThrow();
});

it('refuses another key', () => {
  const sealed = encryption.encrypt('secret', 'kid-1');
  expect(() => new KeyEncryption(randomBytes(32)).decrypt(sealed, 'kid-1')).toThrow();
});
