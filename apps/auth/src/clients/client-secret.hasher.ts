import { Injectable } from '@nestjs/common';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { KeyEncryption } from '../keys/key-encryption';

/** 256 random bits (RFC 6749 §10.10, RFC 6819 §5.1.4.2.2). */
export const CLIENT_SECRET_BYTES = 32;

/**
 * Client secrets are 256 random bits, not passwords: nothing can be guessed, so a slow hash
 * adds CPU cost and no safety. HMAC-SHA256 under a key derived from KEY_ENCRYPTION_KEY means
 * a leaked table alone cannot even be used to test candidate secrets.
 */
/** `rehash`: right secret, but hashed under the previous KEY_ENCRYPTION_KEY (store a new hash). */
export type SecretCheck = 'match' | 'rehash' | 'mismatch';

@Injectable()
export class ClientSecretHasher {
  private readonly key: Buffer;
  /** While KEY_ENCRYPTION_KEY rotates: the key stored hashes were made with before. */
  private readonly previousKey: Buffer | undefined;
  /** Compared against for unknown clients, so they cost the same as known ones. */
  private readonly decoy: Buffer;

  constructor(encryption: KeyEncryption) {
    this.key = encryption.deriveKey('client-secret-hmac');
    this.previousKey = encryption.derivePreviousKey('client-secret-hmac');
    this.decoy = this.hash(randomBytes(CLIENT_SECRET_BYTES).toString('base64url'));
  }

  generate(): string {
    return randomBytes(CLIENT_SECRET_BYTES).toString('base64url');
  }

  hash(secret: string): Buffer {
    return hmac(this.key, secret);
  }

  /**
   * Whether `secret` is the one `stored` was made from, and whether `stored` is from before a
   * KEY_ENCRYPTION_KEY rotation. Constant time in the secret; `stored` null (unknown client)
   * still does the work, and both comparisons always run while a previous key is configured.
   */
  check(secret: string, stored: Buffer | null | undefined): SecretCheck {
    const known = Boolean(stored && stored.length === 32);
    const expected = known ? stored! : this.decoy;
    const current = timingSafeEqual(this.hash(secret), expected);
    const previous = this.previousKey
      ? timingSafeEqual(hmac(this.previousKey, secret), expected)
      : false;
    if (!known) return 'mismatch';
    return current ? 'match' : previous ? 'rehash' : 'mismatch';
  }
}

function hmac(key: Buffer, secret: string): Buffer {
  return createHmac('sha256', key).update(secret, 'utf8').digest();
}
