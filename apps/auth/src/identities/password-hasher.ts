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

/**
 * argon2 and token signing share libuv's thread pool (UV_THREADPOOL_SIZE, default 4). A burst
 * of logins may hold at most half of it, so a token request never queues behind ~30 ms hashes.
 */
export function argon2Concurrency(poolSize = Number(process.env.UV_THREADPOOL_SIZE) || 4): number {
  return Math.max(1, Math.floor(poolSize / 2));
}

/** At most `limit` tasks run at once; the others wait in arrival order. */
export class ConcurrencyLimit {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit)
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}

@Injectable()
export class PasswordHasher implements OnModuleInit {
  /** Verified against when the account does not exist, so both cases cost one argon2 run. */
  private dummyHash = '';
  private readonly pool = new ConcurrencyLimit(argon2Concurrency());

  async onModuleInit(): Promise<void> {
    this.dummyHash = await argon2.hash(
      randomBytes(32).toString('base64url'),
      PASSWORD_HASH_OPTIONS,
    );
  }

  hash(password: string): Promise<string> {
    return this.pool.run(() => argon2.hash(normalizePassword(password), PASSWORD_HASH_OPTIONS));
  }

  /** False for a missing hash too, after the same amount of work. */
  async verify(hash: string | null | undefined, password: string): Promise<boolean> {
    try {
      const candidate = normalizePassword(password);
      const ok = await this.pool.run(() => argon2.verify(hash || this.dummyHash, candidate));
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
