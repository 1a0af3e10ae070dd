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

describe('rotation (KEY_ENCRYPTION_KEY_PREVIOUS)', () => {
  const previous = randomBytes(32);
  const current = randomBytes(32);
  const rotating = new KeyEncryption(current, previous);
  const sealedBefore = new KeyEncryption(previous).encrypt('old secret', 'kid-1');

  it('opens what the previous key sealed, and seals only with the current one', () => {
    expect(rotating.decrypt(sealedBefore, 'kid-1')).toBe('old secret');
    const sealedNow = rotating.encrypt('new secret', 'kid-2');
    expect(new KeyEncryption(current).decrypt(sealedNow, 'kid-2')).toBe('new secret');
    expect(() => new KeyEncryption(previous).decrypt(sealedNow, 'kid-2')).toThrow();
  });

  it('reseals a previous-key ciphertext under the current key, and leaves current ones alone', () => {
    const resealed = rotating.reseal(sealedBefore, 'kid-1')!;
    expect(new KeyEncryption(current).decrypt(resealed, 'kid-1')).toBe('old secret');
    expect(rotating.reseal(resealed, 'kid-1')).toBeUndefined();
  });

  it('still binds the additional data and refuses what neither key sealed', () => {
    expect(() => rotating.decrypt(sealedBefore, 'kid-2')).toThrow();
    const foreign = new KeyEncryption(randomBytes(32)).encrypt('x', 'kid-1');
    expect(() => rotating.reseal(foreign, 'kid-1')).toThrow();
  });

  it('derives sub-keys from both values', () => {
    expect(rotating.deriveKey('p')).toEqual(new KeyEncryption(current).deriveKey('p'));
    expect(rotating.derivePreviousKey('p')).toEqual(new KeyEncryption(previous).deriveKey('p'));
    expect(new KeyEncryption(current).derivePreviousKey('p')).toBeUndefined();
  });
});
