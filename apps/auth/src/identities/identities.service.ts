import { ApiError, OutboxService, SUBJECTS } from '@app/platform';
import { Inject, Injectable } from '@nestjs/common';
import * as argon2 from 'argon2';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AUTH_CONFIG, type AuthConfig } from '../auth.config';
import type { RegisterDto } from './dto/register.dto';
import { Identity } from './identity.entity';

/** OWASP's argon2id floor: 19 MiB, 2 iterations, 1 lane. argon2 hashes on libuv's thread pool. */
export const PASSWORD_HASH_OPTIONS = {
  type: argon2.argon2id,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

@Injectable()
export class IdentitiesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxService,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  async register(input: RegisterDto): Promise<{ id: string; email: string }> {
    const region = input.region ?? this.config.REGIONS[0];
    if (!this.config.REGIONS.includes(region)) {
      throw new ApiError(400, `region must be one of: ${this.config.REGIONS.join(', ')}`);
    }
    const email = input.email.trim().toLowerCase();
    const passwordHash = await argon2.hash(input.password, PASSWORD_HASH_OPTIONS);
    const id = randomUUID();
    await this.dataSource.transaction(async (manager) => {
      const inserted = await manager
        .createQueryBuilder()
        .insert()
        .into(Identity)
        .values({ id, email, passwordHash, roles: ['customer'], region })
        .orIgnore()
        .returning('id')
        .execute();
      if (inserted.raw.length === 0)
        throw new ApiError(409, 'an account with this email already exists');
      await this.outbox.enqueue(manager, SUBJECTS.IDENTITY_REGISTERED, {
        id,
        email,
        displayName: input.displayName,
        region,
        roles: ['customer'],
      });
    });
    return { id, email };
  }
}
