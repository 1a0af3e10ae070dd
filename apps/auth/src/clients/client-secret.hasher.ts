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
@Injectable()
export class ClientSecretHasher {
  private readonly key: Buffer;
  /** Compared against for unknown clients, so they cost the same as known ones. */
  private readonly decoy: Buffer;

  constructor(encryption: KeyEncryption) {
    this.key = encryption.deriveKey('client-secret-hmac');
    this.decoy = this.hash(randomBytes(CLIENT_SECRET_BYTES).toString('base64url'));
  }

  generate(): string {
    return randomBytes(CLIENT_SECRET_BYTES).toString('base64url');
  }

  hash(secret: string): Buffer {
    return createHmac('sha256', this.key).update(secret, 'utf8').digest();
  }

  /** Constant time in the secret; `stored` null (unknown client) still does the work. */
  matches(secret: string, stored: Buffer | null | undefined): boolean {
    const expected = stored && stored.length === 32 ? stored : this.decoy;
    const equal = timingSafeEqual(this.hash(secret), expected);
    return equal && expected !== this.decoy;
  }
}
