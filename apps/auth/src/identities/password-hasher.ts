import { Injectable, OnModuleInit } from '@nestjs/common';
import * as argon2 from 'argon2';
import { randomBytes } from 'node:crypto';
import { normalizePassword } from './password-policy';

/**
 * OWASP's argon2id floor: 19 MiB, 2 iterations, 1 lane. argon2 hashes on libuv's thread
 * pool, off the event loop.
 */
export const PASSWORD_HASH_OPTIONS = {
  type: argon2.argon2id,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

@Injectable()
export class PasswordHasher implements OnModuleInit {
  /** Verified against when the account does not exist, so both cases cost one argon2 run. */
  private dummyHash = '';

  async onModuleInit(): Promise<void> {
    this.dummyHash = await argon2.hash(
      randomBytes(32).toString('base64url'),
      PASSWORD_HASH_OPTIONS,
    );
  }

  hash(password: string): Promise<string> {
    return argon2.hash(normalizePassword(password), PASSWORD_HASH_OPTIONS);
  }

  /** False for a missing hash too, after the same amount of work. */
  async verify(hash: string | null | undefined, password: string): Promise<boolean> {
    try {
      const ok = await argon2.verify(hash || this.dummyHash, normalizePassword(password));
      return ok && Boolean(hash);
    } catch {
      return false;
    }
  }

  /** Whether a stored hash uses weaker parameters than today's (rehash on next login). */
  needsRehash(hash: string): boolean {
    return argon2.needsRehash(hash, PASSWORD_HASH_OPTIONS);
  }
}
