import { Logger } from '@nestjs/common';
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { AuthConfig } from '../auth.config';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM with the key from KEY_ENCRYPTION_KEY. Every ciphertext is bound to what it
 * protects through the additional data (e.g. the key id), so a row cannot be swapped for another.
 * During a rotation the previous key (KEY_ENCRYPTION_KEY_PREVIOUS) still opens what it sealed;
 * `reseal` moves such a ciphertext to the current key. Nothing is ever sealed with the previous key.
 */
export class KeyEncryption {
  private readonly key: Buffer;
  private readonly previous: Buffer | undefined;

  constructor(key: Buffer, previous?: Buffer) {
    if (key.length !== 32) throw new TypeError('KeyEncryption: the key must be 32 bytes');
    if (previous && previous.length !== 32) {
      throw new TypeError('KeyEncryption: the previous key must be 32 bytes');
    }
    this.key = key;
    this.previous = previous;
  }

  static fromConfig(
    config: Pick<
      AuthConfig,
      'KEY_ENCRYPTION_KEY' | 'KEY_ENCRYPTION_KEY_PREVIOUS' | 'NODE_ENV' | 'DATABASE_URL'
    >,
  ) {
    if (config.KEY_ENCRYPTION_KEY) {
      const previous = config.KEY_ENCRYPTION_KEY_PREVIOUS;
      return new KeyEncryption(
        Buffer.from(config.KEY_ENCRYPTION_KEY, 'base64'),
        previous ? Buffer.from(previous, 'base64') : undefined,
      );
    }
    if (config.NODE_ENV === 'production') {
      throw new TypeError('KEY_ENCRYPTION_KEY: is required in production');
    }
    // Development only: stable across restarts of one database, so stored keys stay readable.
    new Logger('KeyEncryption').warn(
      'KEY_ENCRYPTION_KEY is not set: deriving a development key; never do this in production',
    );
    const derived = hkdfSync('sha256', config.DATABASE_URL, 'auth-dev-kek', 'auth/kek', 32);
    return new KeyEncryption(Buffer.from(derived));
  }

  /** Whether a previous key is configured (a rotation is in progress). */
  get rotating(): boolean {
    return this.previous !== undefined;
  }

  /** A sub-key for another purpose (HKDF, RFC 5869), so one secret never serves two uses. */
  deriveKey(purpose: string): Buffer {
    return derive(this.key, purpose);
  }

  /** The same sub-key under the previous key, while a rotation is in progress. */
  derivePreviousKey(purpose: string): Buffer | undefined {
    return this.previous && derive(this.previous, purpose);
  }

  encrypt(plaintext: string, associatedData: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
  }

  decrypt(sealed: string, associatedData: string): string {
    return this.open(sealed, associatedData).plaintext;
  }

  /**
   * The same plaintext sealed under the current key when `sealed` opens only with the previous
   * one; undefined when it is already current. Throws when neither key opens it.
   */
  reseal(sealed: string, associatedData: string): string | undefined {
    const { plaintext, withPrevious } = this.open(sealed, associatedData);
    return withPrevious ? this.encrypt(plaintext, associatedData) : undefined;
  }

  private open(sealed: string, associatedData: string) {
    try {
      return { plaintext: decryptWith(this.key, sealed, associatedData), withPrevious: false };
    } catch (error) {
      if (!this.previous) throw error;
      return { plaintext: decryptWith(this.previous, sealed, associatedData), withPrevious: true };
    }
  }
}

function derive(key: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `auth/${purpose}`, 32));
}

function decryptWith(key: Buffer, sealed: string, associatedData: string): string {
  const [version, encoded] = sealed.split('.');
  if (version !== VERSION || !encoded) throw new Error('unsupported ciphertext');
  const raw = Buffer.from(encoded, 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(associatedData, 'utf8'));
  decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  return Buffer.concat([
    decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)),
    decipher.final(),
  ]).toString('utf8');
}
